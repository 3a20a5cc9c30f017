import http from 'node:http';
import t from 'tap';
import { figure, percentile, server, sleep, startBackend, startProxy } from './lib.js';

// Scenario 12, the judgement soak (opt-in: `RELIABILITY_PROFILE=soak npm run
// test:reliability -- 12`, not part of CI): two healthy versions, each
// answering 500 to 1 request in 100 at random, behind http mode with the
// judgement on (its defaults), at a steady 400 requests/s for 60 minutes
// (RELIABILITY_JUDGE_SOAK_MS to change it), half on kept-alive connections
// and half on a new connection each. Two versions failing alike must never be
// told apart: 0 rollbacks. The GETs the newest fails are retried on the
// previous version, so a client sees a 500 only when both failed (about 1 in
// 10,000); the POSTs are never replayed, so about 1 in 100 of them does.
// The proxy's memory, sampled every 30 s after a GC, stays flat, and its fds
// return to where they were once the load stops (under load they follow the
// connections the load holds open, which grow when the machine is busy).
const DURATION_MS = Number(process.env['RELIABILITY_JUDGE_SOAK_MS'] ?? 60 * 60_000);
const RATE = 400;
const SAMPLE_MS = 30_000;
const RSS_SLACK = 24 * 1024 * 1024;

interface Outcome { status: number; ms: number; kept: boolean; method: string }

t.test(`judgement soak: ${Math.round(DURATION_MS / 1000)} s at ${RATE} requests/s, two versions failing 1 % at random`, async (t) => {
  const a = await startBackend('v1', 'flaky');
  const b = await startBackend('v2', 'flaky');
  const proxy = await startProxy({
    mode: 'http',
    versions: [
      { uuid: 'v1', version: '1.0', servers: [server(a.port)] },
      { uuid: 'v2', version: '2.0', servers: [server(b.port)] },
    ],
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  t.teardown(async () => { agent.destroy(); await proxy.kill(); await a.kill(); await b.kill(); });

  const outcomes: Outcome[] = [];
  let inFlight = 0;
  const send = (n: number): void => {
    const kept = n % 2 === 0;
    // One request in ten is a POST: side effects, never replayed.
    const method = n % 10 === 3 ? 'POST' : 'GET';
    const start = performance.now();
    inFlight++;
    let settled = false;
    const done = (status: number): void => {
      if (settled) return;
      settled = true;
      inFlight--;
      outcomes.push({ status, ms: performance.now() - start, kept, method });
    };
    const req = http.request({
      host: '127.0.0.1', port: proxy.port, method, path: `/r${n}`,
      agent: kept ? agent : false, headers: kept ? {} : { connection: 'close' }, timeout: 5000,
    }, (res) => { res.resume(); res.on('end', () => done(res.statusCode ?? 0)); res.on('error', () => done(0)); });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(0));
    req.end(method === 'POST' ? 'x=1' : undefined);
  };

  // fds before any load, and after it (once idle pooled sockets expired): a leak is what stays.
  const before = await proxy.usage();
  const samples: Array<{ at: number; fds: number; rss: number; heapUsed: number }> = [];
  const t0 = Date.now();
  let sent = 0;
  // Paced by the clock, not by answers: 400/s whatever the latency.
  const pacer = setInterval(() => {
    const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
    while (sent < due && Date.now() - t0 < DURATION_MS) send(sent++);
  }, 10);
  while (Date.now() - t0 < DURATION_MS) {
    await sleep(Math.min(SAMPLE_MS, DURATION_MS - (Date.now() - t0)));
    const u = await proxy.usage();
    samples.push({ at: Date.now() - t0, fds: u.fds, rss: u.rss, heapUsed: u.heapUsed });
  }
  clearInterval(pacer);
  while (inFlight > 0) await sleep(50);
  agent.destroy();
  await sleep(6000);
  const after = await proxy.usage();

  const events = await proxy.call<{ rollback: number; fallback: number }>('events');
  const status = await proxy.call<{ versions: Array<{ uuid: string; state: string; requests: number; errors: number }> }>('status');
  const gets = outcomes.filter((o) => o.method === 'GET');
  const posts = outcomes.filter((o) => o.method === 'POST');
  const transport = outcomes.filter((o) => o.status === 0).length;
  const get5xx = gets.filter((o) => o.status >= 500).length;
  const post5xx = posts.filter((o) => o.status >= 500).length;
  const warm = samples[Math.min(2, samples.length - 1)]!;
  const lastS = samples[samples.length - 1]!;
  const maxFds = Math.max(...samples.slice(Math.min(2, samples.length - 1)).map((s) => s.fds));
  const seconds = (Date.now() - t0) / 1000;
  const p99 = (kept: boolean): string => percentile(outcomes.filter((o) => o.kept === kept).map((o) => o.ms), 99).toFixed(1);

  t.equal(events.rollback, 0, 'no rollback: two versions failing alike are never told apart');
  t.ok(status.versions.every((v) => v.state !== 'rolled-back'), `no version rolled back (${status.versions.map((v) => `${v.uuid} ${v.state}`).join(', ')})`);
  t.ok(outcomes.length >= RATE * (DURATION_MS / 1000) * 0.95, `the load held ${RATE}/s (${outcomes.length} requests in ${seconds.toFixed(0)} s)`);
  t.equal(transport, 0, 'no request failed in transport (reset, refused, timed out)');
  t.ok(get5xx <= Math.max(5, gets.length * 0.001), `GETs the newest failed were answered by the previous version (${get5xx} of ${gets.length} saw a 5xx)`);
  t.ok(lastS.rss <= warm.rss + RSS_SLACK, `RSS flat: ${mb(warm.rss)} -> ${mb(lastS.rss)} MiB`);
  t.ok(lastS.heapUsed <= warm.heapUsed + 8 * 1024 * 1024, `heap flat: ${mb(warm.heapUsed)} -> ${mb(lastS.heapUsed)} MiB`);
  t.ok(after.fds <= before.fds + 10, `no fd left behind: ${before.fds} before the load, ${after.fds} after it (${maxFds} at most during it, with the load's connections open)`);

  figure(t, {
    scenario: '12 judgement soak',
    requests: outcomes.length,
    errors: transport + get5xx,
    faults: `both versions fail 1 % at random for ${Math.round(seconds)} s at ${RATE}/s; ${events.rollback} rollbacks, ${events.fallback} fallbacks`,
    lost: `RSS ${mb(warm.rss)} -> ${mb(lastS.rss)} MiB (max ${mb(Math.max(...samples.map((s) => s.rss)))}), heap ${mb(warm.heapUsed)} -> ${mb(lastS.heapUsed)} MiB, fds ${before.fds} before, ${after.fds} after, ${maxFds} at most under load`,
    notes: `GET 5xx seen ${get5xx}/${gets.length}, POST 5xx ${post5xx}/${posts.length} (not replayed); p99 ${p99(true)} ms kept-alive, ${p99(false)} ms new connections`,
  });
});

function mb(n: number): string {
  return (n / 1024 / 1024).toFixed(1);
}
