import t from 'tap';
import { errorKinds, figure, load, server, sleep, startBackend, startProxy } from './lib.js';

// Scenario 10, the soak (opt-in: `RELIABILITY_PROFILE=soak npm run
// test:reliability`, not part of CI): moderate load for a long time (10
// minutes by default, RELIABILITY_SOAK_MS to change it) with a version added
// and removed every few seconds. The proxy's open fds and memory, sampled
// every 10 s from /proc after a GC, must stay flat once warmed up; no request
// may fail.
const DURATION_MS = Number(process.env['RELIABILITY_SOAK_MS'] ?? 10 * 60_000);
const SAMPLE_MS = 10_000;
const RSS_SLACK = 24 * 1024 * 1024;

t.test(`soak: ${Math.round(DURATION_MS / 1000)} s of moderate load with version churn`, async (t) => {
  const a = await startBackend('v1');
  const b = await startBackend('v2');
  const proxy = await startProxy({ versions: [{ uuid: 'v1', version: '1.0', servers: [server(a.port)] }] });
  t.teardown(async () => { await proxy.kill(); await a.kill(); await b.kill(); });

  let stop = false;
  const run = load({ port: proxy.port, connections: 20, running: () => !stop });
  const churn = (async () => {
    for (let i = 0; !stop; i++) {
      await proxy.call('add', { version: { uuid: 'v2', version: '2.0', servers: [server(b.port)], upgradeTransition: { mode: i % 2 ? 'SESSION' : 'INSTANT' } } });
      await sleep(2000);
      await proxy.call('remove', { uuid: 'v2', drainTimeout: 5000 });
      await sleep(1000);
    }
  })();
  const samples: Array<{ at: number; fds: number; rss: number; heapUsed: number }> = [];
  const t0 = Date.now();
  while (Date.now() - t0 < DURATION_MS) {
    await sleep(Math.min(SAMPLE_MS, DURATION_MS - (Date.now() - t0)));
    const u = await proxy.usage();
    samples.push({ at: Date.now() - t0, fds: u.fds, rss: u.rss, heapUsed: u.heapUsed });
  }
  stop = true;
  await churn;
  const { samples: reqs } = await run;
  const errors = reqs.filter((s) => !s.ok);
  // The first samples are the warm-up (pools, JIT); flat means after that.
  const warm = samples[Math.min(2, samples.length - 1)]!;
  const lastS = samples[samples.length - 1]!;
  const maxFds = Math.max(...samples.slice(2).map((s) => s.fds));

  t.equal(errors.length, 0, `no request failed (${reqs.length} requests, ${errorKinds(reqs)})`);
  t.ok(lastS.rss <= warm.rss + RSS_SLACK, `RSS flat: ${mb(warm.rss)} -> ${mb(lastS.rss)} MiB`);
  t.ok(lastS.heapUsed <= warm.heapUsed + 8 * 1024 * 1024, `heap flat: ${mb(warm.heapUsed)} -> ${mb(lastS.heapUsed)} MiB`);
  t.ok(maxFds <= warm.fds + 25, `fds flat (warm ${warm.fds}, max ${maxFds}; the load keeps up to 20 client and 20 upstream sockets open)`);

  figure(t, {
    scenario: '10 soak',
    requests: reqs.length,
    errors: errors.length,
    faults: `version churn every 3 s for ${Math.round(DURATION_MS / 1000)} s`,
    lost: `RSS ${mb(warm.rss)} -> ${mb(lastS.rss)} MiB, heap ${mb(warm.heapUsed)} -> ${mb(lastS.heapUsed)} MiB, fds ${warm.fds} -> ${lastS.fds}`,
  });
});

function mb(n: number): string {
  return (n / 1024 / 1024).toFixed(1);
}
