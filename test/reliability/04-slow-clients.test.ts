import net from 'node:net';
import t from 'tap';
import { errorKinds, figure, load, percentile, PROFILE, server, sleep, startBackend, startProxy, until } from './lib.js';

// Scenario 4: 1,000 clients trickle a request head, a byte at a time, while
// 20 normal clients keep sending requests. Stream mode gives each head a
// deadline (timeouts.head) and never lets a slow head hold up anyone else:
// every normal request must be served, and each slow client must end with a
// 408 once its deadline passes, not sooner and not never. Latency is judged
// against a baseline taken just before on the same machine (other work may
// be running on it): the slow clients may not make normal requests more than
// three times slower (or slower than 1 s, whichever allows more).
const SLOW = PROFILE === 'soak' ? 3000 : 1000;
const HEAD_TIMEOUT = 6000;
const BASELINE_MS = 1500;
const TRICKLE_MS = 250;

t.test(`${SLOW} slow clients trickling heads: normal clients keep being served`, async (t) => {
  const v1 = await startBackend('v1');
  const proxy = await startProxy({ versions: [{ uuid: 'v1', version: '1.0', servers: [server(v1.port)] }], timeouts: { head: HEAD_TIMEOUT } });
  t.teardown(async () => { await proxy.kill(); await v1.kill(); });

  let stopBase = false;
  const base = load({ port: proxy.port, connections: 20, running: () => !stopBase });
  await sleep(BASELINE_MS);
  stopBase = true;
  const baseline = (await base).samples;
  const baseP99 = percentile(baseline.map((s) => s.end - s.start), 99);

  const head = Buffer.from('GET /slow HTTP/1.1\r\nHost: localhost\r\nX-Trickle: ');
  const outcome = { answered408: 0, closedOther: 0, earlyEnd: 0 };
  const slow: net.Socket[] = [];
  const started = Date.now();
  const ended: Array<Promise<void>> = [];
  for (let i = 0; i < SLOW; i++) {
    const s = net.connect(proxy.port, '127.0.0.1');
    slow.push(s);
    let got = '';
    let pos = 0;
    const timer = setInterval(() => {
      // The head never completes: a byte of it, then the same filler forever.
      if (!s.destroyed) s.write(pos < head.length ? head.subarray(pos, ++pos) : 'x');
    }, TRICKLE_MS);
    ended.push(new Promise((resolve) => {
      s.on('data', (d: Buffer) => { got += d.toString('latin1'); });
      s.on('error', () => {});
      s.on('close', () => {
        clearInterval(timer);
        if (Date.now() - started < HEAD_TIMEOUT - 500) outcome.earlyEnd++;
        if (got.startsWith('HTTP/1.1 408')) outcome.answered408++;
        else outcome.closedOther++;
        resolve();
      });
    }));
    if (i % 100 === 99) await sleep(20);
  }
  t.ok(await until(async () => (await proxy.usage()).connections >= SLOW * 0.95, 5000), 'the slow clients are connected');

  let stop = false;
  const run = load({ port: proxy.port, connections: 20, running: () => !stop });
  await sleep(Math.max(0, HEAD_TIMEOUT - (Date.now() - started) - 800));
  stop = true;
  const { samples } = await run;
  const errors = samples.filter((s) => !s.ok);
  const p99 = percentile(samples.map((s) => s.end - s.start), 99);

  await Promise.race([Promise.all(ended), sleep(HEAD_TIMEOUT + 5000)]);
  const stillOpen = slow.filter((s) => !s.destroyed).length;
  for (const s of slow) s.destroy();

  t.ok(samples.length >= 20, `normal clients kept going (${samples.length} requests by 20 clients)`);
  t.equal(errors.length, 0, `no normal request failed (${errorKinds(samples)})`);
  t.equal(baseline.filter((s) => !s.ok).length, 0, `no baseline request failed (${errorKinds(baseline)})`);
  const limit = Math.max(1000, 3 * baseP99);
  t.ok(p99 <= limit, `p99 latency of normal requests ${p99} ms with the slow clients, ${baseP99} ms without (limit ${limit} ms)`);
  t.equal(outcome.earlyEnd, 0, 'no slow client was cut before its head deadline');
  t.equal(stillOpen, 0, 'every slow client was closed once its deadline passed');
  t.equal(outcome.answered408, SLOW, `each got 408 (${outcome.answered408} 408, ${outcome.closedOther} other)`);
  t.ok(await until(async () => (await proxy.usage()).connections === 0, 3000), 'the proxy holds no connection afterwards');

  figure(t, {
    scenario: '4 slow clients',
    requests: samples.length,
    errors: errors.length,
    faults: `${SLOW} slow heads held off (${outcome.answered408} got 408 at ${HEAD_TIMEOUT} ms)`,
    lost: stillOpen === 0 ? 'none' : `${stillOpen} slow sockets never closed`,
    notes: `normal p99 ${p99} ms with the slow clients, ${baseP99} ms without`,
  });
});
