import net from 'node:net';
import t from 'tap';
import { defaultConnections, resolveOptions } from '../../src/core/index.js';
import { fdLimit } from '../../src/core/options.js';
import { backend, sleep } from '../helpers/net.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

// Out of file descriptors, a listener can only reset new connections: the
// config API and /healthz would go dark with the proxy. `limits.connections`
// therefore defaults to a share of the fd limit that leaves a reserve.

t.test('limits.connections defaults to a share of the fd limit', async (t) => {
  t.equal(defaultConnections(256), 96, '256 fds: a reserve of 64, half of the rest');
  t.equal(defaultConnections(1024), 384, '1024 fds: a reserve of 256');
  t.equal(defaultConnections(1_048_576), 524_160);
  t.equal(defaultConnections(undefined), 0, 'unknown limit: no limit');
  t.equal(defaultConnections(2), 1, 'never 0 for a known limit');
  t.equal(fdLimit('Limit  Soft Limit  Hard Limit  Units\nMax open files            4096                 524288               files\n'), 4096, 'the soft limit is read');
  t.equal(fdLimit('Max open files            unlimited            unlimited            files\n'), undefined);
  t.equal(resolveOptions({}).limits.connections, defaultConnections(fdLimit()), 'the default follows this process\'s limit');
  t.equal(resolveOptions({ limits: { connections: 0 } }).limits.connections, 0, '0 still means no limit');
});

t.test('with 256 fds and 400 clients holding connections, /healthz and the API still answer', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const cfg = writeJson(dir, 'c.json', config(v1.port, { proxy: { port: 0, host: '127.0.0.1', timeouts: { head: 60_000 } } }));
  const sc = await startBinary(t, ['--config', cfg, '--no-state'], {}, { fdLimit: 256 });
  const ports = { proxy: sc.proxyPort, api: sc.apiPort };
  const held: net.Socket[] = [];
  t.teardown(() => { for (const s of held) s.destroy(); });
  for (let i = 0; i < 400; i++) {
    const s = net.connect(ports.proxy, '127.0.0.1');
    s.on('error', () => {});
    held.push(s);
  }
  await sleep(1500);
  for (let i = 0; i < 5; i++) {
    const r = await api(ports.api, 'GET', '/healthz').catch((err: Error) => ({ status: 0, text: err.message }));
    t.equal(r.status, 200, `/healthz answers while the proxy is full (${i + 1})`);
  }
  const st = await api(ports.api, 'GET', '/status');
  t.equal(st.status, 200, '/status answers');
  t.ok(st.json.connections <= 96, `the proxy holds at most its default limit (${st.json.connections})`);
  for (const s of held) s.destroy();
  await sleep(500);
  const again = await new Promise<string>((resolve) => {
    const s = net.connect(ports.proxy, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let text = '';
    s.on('data', (d) => { text += d.toString(); });
    s.on('close', () => resolve(text));
    s.on('error', () => resolve(text));
  });
  t.match(again, /^HTTP\/1\.1 200[\s\S]*v1$/, 'once clients leave, the proxy serves again');
});
