import t from 'tap';
import { get, raw } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions, modesExcept } from '../helpers/modes.js';

for (const mode of modesExcept('uws-head-checks')) t.test(`${mode}: head bounds and malformed heads: an answer, then a close, nothing forwarded`, async (t) => {
  const [b] = await backends(t, ['v1']);
  const proxy = await proxyFor(t, { ...modeOptions(mode), limits: { headSize: 4096 }, versions: [{ version: '1.0', servers: at(b!) }] });
  const port = proxy.address.port;
  const big = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`);
  t.match(big.text, /^HTTP\/1\.1 431 /, 'a head over the limit gets 431');
  t.ok(big.closed);
  const bigTrickle = await raw(port, Array.from({ length: 50 }, () => 'X-Big: ' + 'b'.repeat(100) + '\r\n'), { gapMs: 1 });
  t.match(bigTrickle.text, /^HTTP\/1\.1 (400|431) /, 'a head that grows over the limit in pieces too');
  for (const bad of ['GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'GET / HTTP/1.1\nHost: x\n\n']) {
    const r = await raw(port, bad);
    t.match(r.text, /^HTTP\/1\.1 400 Bad Request\r\n[^]*Connection: close\r\n/, `400 for ${JSON.stringify(bad.slice(0, 30))}`);
    t.ok(r.closed, 'and the connection is closed');
  }
  t.equal(b!.requests.length, 0, 'nothing reached the backend');
  t.equal((await get(port)).body, 'v1', 'and the proxy still serves');
});

for (const mode of modesExcept('uws-head-checks')) t.test(`${mode}: a head sent one byte at a time still routes by its cookie`, async (t) => {
  const [o, n] = await backends(t, ['old', 'new']);
  const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [
    { uuid: 'o', version: '1.0', servers: at(o!) },
    { uuid: 'n', version: '2.0', servers: at(n!), upgradeTransition: { mode: 'SESSION' } },
  ] });
  const head = 'GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1; dynsoftup=o\r\nConnection: close\r\n\r\n';
  const r = await raw(proxy.address.port, head.split(''), { gapMs: 1, ms: 5000 });
  t.match(r.text, /\r\n\r\nold$/);
});

t.test('non-HTTP bytes: 400 by default in each mode, piped to the newest with nonHttp: tcp in stream mode', async (t) => {
  const net = await import('node:net');
  const echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => echo.close());
  const port = (echo.address() as import('node:net').AddressInfo).port;
  for (const mode of modesExcept('uws-head-checks')) {
    const strict = await proxyFor(t, { ...modeOptions(mode), versions: [{ version: '1', servers: at(port) }] });
    t.match((await raw(strict.address.port, '\x16\x03\x01binary-hello\r\n\r\n')).text, /^HTTP\/1\.1 400 /, `400 in ${mode} mode`);
  }
  const tcp = await proxyFor(t, { mode: 'stream', nonHttp: 'tcp', versions: [{ version: '1', servers: at(port) }] });
  const r = await raw(tcp.address.port, ['\x16\x03\x01binary', '-hello'], { gapMs: 20, ms: 500 });
  t.equal(r.text, '\x16\x03\x01binary-hello', 'echoed through as plain TCP');
  const ssh = await raw(tcp.address.port, 'SSH-2.0-client\r\n', { ms: 500 });
  t.equal(ssh.text, 'SSH-2.0-client\r\n', 'a text protocol that is not HTTP goes through too');
});
