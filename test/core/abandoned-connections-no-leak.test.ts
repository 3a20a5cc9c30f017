import net from 'node:net';
import t from 'tap';
import { openFds, until } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions, modesExcept } from '../helpers/modes.js';

async function burst(port: number, n: number, payload: string | null, mode: 'fin' | 'rst'): Promise<void> {
  const batch = 100;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        if (payload !== null) s.write(payload);
        setImmediate(() => (mode === 'rst' ? s.resetAndDestroy() : s.end()));
      });
      // Read what comes back, as a real client would; a socket that never
      // reads never sees the proxy's FIN.
      s.resume();
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    })));
  }
}

for (const mode of MODES) t.test(`${mode}: connections that leave without a byte, or after half a head, leave no socket behind`, async (t) => {
  const [b] = await backends(t, ['v1']);
  const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ version: '1.0', servers: at(b!) }] });
  const port = proxy.address.port;
  // Warm up (lazy handles, timers) before taking the baseline.
  await burst(port, 10, null, 'fin');
  t.ok(await until(() => proxy.connections === 0), 'the warm-up connections are gone');
  const baseline = await openFds();

  await burst(port, 500, null, 'fin');
  await burst(port, 500, null, 'rst');
  await burst(port, 500, 'GET /half HTTP/1.1\r\nHost: x\r\nCook', 'fin');
  await burst(port, 500, 'GET /half HTTP/1.1\r\nHost: x\r\nCook', 'rst');
  t.ok(await until(() => proxy.connections === 0, 5000), `every connection is gone (${proxy.connections} left)`);
  t.ok(await until(async () => (await openFds()) <= baseline + 2, 5000), 'open file descriptors are back to the baseline');
  t.equal(b!.requests.length, 0, 'nothing reached the backend');
});

for (const mode of modesExcept('uws-timeouts')) t.test(`${mode}: the head timeout closes a client that stalls mid-head`, async (t) => {
  const [b] = await backends(t, ['v1']);
  const proxy = await proxyFor(t, { ...modeOptions(mode), timeouts: { head: 200 }, versions: [{ version: '1.0', servers: at(b!) }] });
  const s = net.connect(proxy.address.port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHo'));
  let text = '';
  s.on('data', (d) => { text += d; });
  const t0 = Date.now();
  await new Promise<void>((r) => s.on('close', () => r()));
  t.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/, '408 for a head that never completes');
  t.ok(Date.now() - t0 < 2000, 'closed soon after');
  const silent = net.connect(proxy.address.port, '127.0.0.1');
  let silentText = '';
  silent.on('data', (d) => { silentText += d; });
  await new Promise<void>((r) => silent.on('close', () => r()));
  t.equal(silentText, '', 'a client that never spoke is closed without an answer');
  t.ok(await until(() => proxy.connections === 0));
});
