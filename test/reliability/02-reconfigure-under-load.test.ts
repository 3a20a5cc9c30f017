import t from 'tap';
import { errorKinds, figure, load, PROFILE, server, sleep, startBackend, startProxy } from './lib.js';

// Scenario 2: versions are added, patched and removed in a loop while 50
// connections send GETs. Every server stays up the whole time, so there is
// no excuse for a single client-visible error: a removed version's open
// connections are drained (not cut), and a request routed a moment before a
// change must still complete.
const DURATION_MS = PROFILE === 'soak' ? 30_000 : 4000;

t.test('add, patch and remove versions in a loop under load: no client-visible error', async (t) => {
  const a = await startBackend('v1');
  const b = await startBackend('v2');
  const c = await startBackend('v2b');
  const proxy = await startProxy({ versions: [{ uuid: 'v1', version: '1.0', servers: [server(a.port)] }] });
  t.teardown(async () => { await proxy.kill(); await a.kill(); await b.kill(); await c.kill(); });

  let stop = false;
  const run = load({
    port: proxy.port, connections: 50, running: () => !stop,
    // Some clients carry a session on the version that comes and goes.
    request: (w) => (w % 3 === 0 ? { headers: { cookie: 'dynsoftup=v2' } } : {}),
  });
  const modes = ['INSTANT', 'SESSION', 'GRADUAL', 'CONCURRENT'];
  const ops = { add: 0, patch: 0, remove: 0 };
  const end = Date.now() + DURATION_MS;
  for (let i = 0; Date.now() < end; i++) {
    const mode = modes[i % modes.length]!;
    await proxy.call('add', { version: { uuid: 'v2', version: '2.0', servers: [server(b.port)], upgradeTransition: { mode } } });
    ops.add++;
    await sleep(60);
    await proxy.call('update', { uuid: 'v2', patch: { servers: [server(b.port), server(c.port)] } });
    await proxy.call('update', { uuid: 'v1', patch: { version: i % 2 === 0 ? '1.0' : '1.0.1' } });
    ops.patch += 2;
    await sleep(60);
    // Drain: connections already on v2 finish; new ones go to v1.
    await proxy.call('remove', { uuid: 'v2', drainTimeout: 5000 });
    ops.remove++;
    await sleep(30);
  }
  stop = true;
  const { samples } = await run;
  const errors = samples.filter((s) => !s.ok);
  const byVersion = (n: string): number => samples.filter((s) => s.by === n).length;

  t.ok(ops.add >= 2, `the loop ran (${ops.add} adds, ${ops.patch} patches, ${ops.remove} removes)`);
  t.ok(byVersion('v1') > 0 && byVersion('v2') + byVersion('v2b') > 0, `both versions served (v1 ${byVersion('v1')}, v2 ${byVersion('v2') + byVersion('v2b')})`);
  t.equal(errors.length, 0, `no client-visible error (${errorKinds(samples)})`);
  t.ok(proxy.alive(), 'the proxy process is alive');
  const st = await proxy.call<{ versions: Array<{ uuid: string }> }>('status');
  t.same(st.versions.map((v) => v.uuid), ['v1'], 'only v1 is left');

  figure(t, {
    scenario: '2 add/patch/remove under load',
    requests: samples.length,
    errors: errors.length,
    faults: `${ops.add + ops.patch + ops.remove} changes (${ops.add} add, ${ops.patch} patch, ${ops.remove} remove)`,
    lost: errors.length === 0 ? 'none' : `${errors.length} requests`,
    notes: `v1 ${byVersion('v1')}, v2 ${byVersion('v2') + byVersion('v2b')} responses`,
  });
});
