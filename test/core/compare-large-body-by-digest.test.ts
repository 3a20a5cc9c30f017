import http from 'node:http';
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { backends, proxyFor } from '../helpers/proxy.js';
import { until } from '../helpers/net.js';

// A body that is not JSON is compared by a digest computed as it streams,
// with its length: neither the client's answer nor the previous version's
// is ever held whole.
import { MODES, modeOptions } from '../helpers/modes.js';
const SIZE = 5 * 1024 * 1024;

/** GETs through the proxy, counting the body's bytes without keeping them. */
function fetchCount(port: number): Promise<{ status: number; bytes: number; last: number }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let bytes = 0;
      let last = -1;
      res.on('data', (d: Buffer) => { bytes += d.length; last = d[d.length - 1]!; });
      res.on('end', () => resolve({ status: res.statusCode!, bytes, last }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

for (const mode of MODES) {
  t.test(mode, async (t) => {
    const same = randomBytes(SIZE);
    const changed = Buffer.from(same);
    changed[SIZE - 1] = same[SIZE - 1]! ^ 0xff;
    let newest = same;
    const [o, n] = await backends(t, ['old', 'new'], (name) => (_req, res) => {
      res.setHeader('content-type', 'application/octet-stream');
      // One buffer per version, written as is: the backends allocate nothing per request.
      res.end(name === 'new' ? newest : same);
    });
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
      { uuid: 'v1', version: '1.0', servers: [{ hostname: '127.0.0.1', port: o!.port }] },
      { uuid: 'v2', version: '2.0', servers: [{ hostname: '127.0.0.1', port: n!.port }], upgradeTransition: { mode: 'CONCURRENT' } },
    ] });
    const v2 = () => proxy.status().versions.find((v) => v.uuid === 'v2')!;
    // Two answers first: the process's allocator warms up (its RSS grows as much with comparison off).
    for (let i = 0; i < 2; i++) t.equal((await fetchCount(proxy.address.port)).bytes, SIZE, 'the whole body reached the client');
    const base = process.memoryUsage();
    let peakRss = base.rss;
    let peakHeap = base.heapUsed;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 5);
    for (let i = 0; i < 8; i++) {
      const r = await fetchCount(proxy.address.port);
      t.equal(r.bytes, SIZE, 'the whole body reached the client');
    }
    t.ok(await until(() => v2().comparison.compared === 10), 'each answer compared with the previous version\'s');
    t.same(v2().comparison.differences, [], 'identical bodies: no difference');
    newest = changed;
    for (let i = 0; i < 5; i++) t.equal((await fetchCount(proxy.address.port)).last, changed[SIZE - 1], 'the client gets the newest\'s bytes');
    t.ok(await until(() => v2().comparison.compared === 15), 'compared');
    clearInterval(sampler);
    const body = v2().comparison.differences.find((f) => f.field === 'body');
    t.equal(body?.count, 5, 'a one-byte change in 5 MiB is a body difference');
    t.match(body?.sample, { newest: /^sha1 .+, 5242880 bytes$/, previous: /^sha1 .+, 5242880 bytes$/ }, 'by digest and length');
    // 13 answers of 5 MiB passed twice each (the client's and the previous version's): holding one whole would show.
    const mib = (x: number) => Math.round(x / 1024 / 1024);
    t.ok(peakHeap - base.heapUsed < SIZE, `heap grew at most ${mib(peakHeap - base.heapUsed)} MiB`);
    t.ok(peakRss - base.rss < 6 * SIZE, `RSS grew at most ${mib(peakRss - base.rss)} MiB`);
  });
}
