import t from 'tap';
import { get } from '../helpers/net.js';
import { HTTP_MODES, modeOptions } from '../helpers/modes.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

for (const m of HTTP_MODES) t.test(`${m}: rollback, promote and resume from the library`, async (t) => {
  const [b1, b2] = await backends(t, ['v1', 'v2']);
  const proxy = await proxyFor(t, {
    ...modeOptions(m),
    versions: [
      { uuid: 'v1', version: '1.0', servers: at(b1!) },
      { uuid: 'v2', version: '2.0', servers: at(b2!), upgradeTransition: { mode: 'GRADUAL', initialPercentage: 0 } },
    ],
  });
  const seen: string[] = [];
  proxy.events.on('rollback', (e) => seen.push(`rollback ${e.fromUuid} ${e.reason}`));
  proxy.events.on('promote', (e) => seen.push(`promote ${e.uuid}`));
  proxy.events.on('resume', (e) => seen.push(`resume ${e.uuid}`));
  const port = proxy.address.port;
  const cookie = 'transition=client-0123456789';
  t.equal((await get(port, { cookie })).body, 'v1', 'share 0: the previous version');

  t.match(proxy.promote('v2'), { uuid: 'v2', version: '2.0' }, 'returns the cluster JSON');
  t.equal((await get(port, { cookie })).body, 'v2', 'promoted: the newest takes every new client');
  t.match(proxy.status().versions[0], { state: 'up', share: 100, percentage: 100, promotedAt: String, judgement: { verdict: 'promoted', lastDecision: { action: 'promote' } } });

  proxy.rollback('v2');
  t.equal((await get(port, { cookie })).body, 'v1');
  t.match(proxy.status().versions[0], { state: 'rolled-back', share: 0, rolledBack: { reason: 'operator', at: String }, judgement: { verdict: 'rolled-back', lastDecision: { action: 'rollback', reason: 'operator' } } });
  t.equal(proxy.status().versions[0]!.rolledBack!.evidence, undefined, 'an operator\'s rollback has no evidence');

  proxy.resume('v2');
  const st = proxy.status().versions[0]!;
  t.match(st, { state: 'up', judgement: { verdict: 'too-few', window: { requests: 0 }, lastDecision: { action: 'resume' } } });
  t.equal(st.rolledBack, undefined);
  t.equal(st.percentage, 0, 'GRADUAL starts again from its initial share');
  t.same(seen, ['promote v2', 'rollback v2 operator', 'resume v2']);

  t.throws(() => proxy.rollback('nope'), { code: 'UPS_ERR_VERSION_NOT_FOUND' });
  t.throws(() => proxy.promote('nope'), { code: 'UPS_ERR_VERSION_NOT_FOUND' });
  t.throws(() => proxy.resume('nope'), { code: 'UPS_ERR_VERSION_NOT_FOUND' });
  proxy.rollback('v2');
  t.throws(() => proxy.rollback('v1'), { code: 'UPS_ERR_NO_ROLLBACK_TARGET' }, 'the last eligible version cannot be rolled back');
});

for (const m of HTTP_MODES) t.test(`${m}: a version's own judge fields override the proxy's`, async (t) => {
  const [b1, b2] = await backends(t, ['v1', 'v2'], (name) => (_req, res) => {
    res.statusCode = name === 'v2' ? 503 : 200;
    res.end(name);
  });
  const proxy = await proxyFor(t, {
    ...modeOptions(m),
    versions: [
      { uuid: 'v1', version: '1.0', servers: at(b1!) },
      { uuid: 'v2', version: '2.0', servers: at(b2!), judge: { retryOn: [500] } },
    ],
  });
  for (let i = 0; i < 30; i++) await get(proxy.address.port);
  t.match(proxy.status().versions[0], { state: 'up', judgement: { verdict: 'pass', window: { requests: 30, good: 30 } } }, '503 is not a failure for this version');
  t.same(proxy.getVersion('v2')?.judge, { retryOn: [500] }, 'listed in its cluster JSON');
  proxy.updateVersion('v2', { judge: {} });
  for (let i = 0; i < 30 && proxy.status().versions[0]!.state !== 'rolled-back'; i++) await get(proxy.address.port);
  t.equal(proxy.status().versions[0]!.state, 'rolled-back', 'with the override gone, 503 counts');
});
