import t from 'tap';
import { proxyFor } from '../helpers/proxy.js';

const S = [{ hostname: '127.0.0.1', port: 8080 }];

// A patch's upgradeTransition without mode is read like a new one: its fields say the mode.
t.test('a patch without mode takes the mode of its fields', async (t) => {
  const proxy = await proxyFor(t);
  proxy.addVersion({ uuid: 'g', version: '2', servers: S, upgradeTransition: { mode: 'GRADUAL', percentageTransitionPerRequest: 5 } });

  const same = proxy.updateVersion('g', { upgradeTransition: { percentageTransitionPerRequest: 10 } });
  t.same(same.upgradeTransition, { mode: 'GRADUAL', percentageTransitionPerRequest: 10, initialPercentage: 5 }, 'fields of the current mode merge into it');

  const session = proxy.updateVersion('g', { upgradeTransition: { sessionTimeout: 60 } });
  t.same(session.upgradeTransition, { mode: 'SESSION', sessionTimeout: 60 }, 'sessionTimeout on a GRADUAL version switches it to SESSION, afresh');

  const kept = proxy.updateVersion('g', { upgradeTransition: {} });
  t.same(kept.upgradeTransition, { mode: 'SESSION', sessionTimeout: 60 }, 'no field, no mode: the transition stays');

  t.throws(() => proxy.updateVersion('g', { upgradeTransition: { sessionTimeout: 5, concurrentVersions: 2 } }), { code: 'UPS_ERR_INVALID_VERSION', field: 'cluster.upgradeTransition.concurrentVersions' }, 'fields of two modes are refused');
  t.same(proxy.getVersion('g')!.upgradeTransition, { mode: 'SESSION', sessionTimeout: 60 }, 'and change nothing');

  const explicit = proxy.updateVersion('g', { upgradeTransition: { mode: 'INSTANT' } });
  t.same(explicit.upgradeTransition, { mode: 'INSTANT' }, 'a given mode still decides');
});
