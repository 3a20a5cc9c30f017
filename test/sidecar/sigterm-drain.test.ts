import t from 'tap';
import { backend, get, raw, sleep } from '../helpers/net.js';
import { config, startBinary, tmpDir, writeJson } from './helpers.js';

t.test('SIGTERM stops accepting, lets open requests finish, and exits 0', async (t) => {
  // The backend answers after 700 ms: the request is in flight when SIGTERM arrives.
  const slow = await backend('slow', (_req, res) => { setTimeout(() => res.end('done'), 700); });
  t.teardown(() => slow.close());
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(slow.port, { drainTimeout: 5000 })), '--state', `${dir}/s.json`]);
  const inflight = get(sc.proxyPort);
  await sleep(200);
  sc.child.kill('SIGTERM');
  const reply = await inflight;
  t.equal(reply.status, 200, 'the request in flight completes');
  t.equal(reply.body, 'done');
  const exit = await sc.exited;
  t.equal(exit.code, 0, 'exit code 0');
  t.ok(sc.logs.some((l) => l.includes('"event":"signal"')), 'the drain is logged');
  const after = await raw(sc.proxyPort, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { ms: 1000 });
  t.equal(after.text, '', 'nothing listens any more');
});

t.test('the drain has a deadline', async (t) => {
  const stuck = await backend('stuck', () => { /* never answers */ });
  t.teardown(() => stuck.close());
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(stuck.port, { drainTimeout: 300 })), '--no-state']);
  const hung = raw(sc.proxyPort, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { ms: 8000 });
  await sleep(200);
  const t0 = Date.now();
  sc.child.kill('SIGTERM');
  const exit = await sc.exited;
  t.equal(exit.code, 0);
  t.ok(Date.now() - t0 < 4000, 'exits soon after the deadline even with a connection that never ends');
  t.ok((await hung).closed, 'the stuck connection was closed');
});
