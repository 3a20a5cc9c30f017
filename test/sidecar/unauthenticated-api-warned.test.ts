import t from 'tap';
import { config, startBinary, tmpDir, writeJson } from './helpers.js';

// A config API reachable from other hosts and without a token lets anyone
// there change routing: the sidecar starts (the prototype's configs do
// this), but says so loudly, at warn level, before its "started" line.

const warned = (logs: string[]): boolean => logs.some((l) => /"level":40/.test(l) && /"event":"unauthenticated"/.test(l) && /without a token/.test(l));

t.test('a non-loopback API without a token is warned about', async (t) => {
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(9, { configService: { port: 0, host: '0.0.0.0' } })), '--no-state']);
  t.ok(warned(sc.logs), 'a warning names the risk and the fix');
});

t.test('no warning on loopback, nor with a token', async (t) => {
  const dir = tmpDir(t);
  const loop = await startBinary(t, ['--config', writeJson(dir, 'a.json', config(9)), '--no-state']);
  t.notOk(warned(loop.logs), '127.0.0.1: no warning');
  const tok = await startBinary(t, ['--config', writeJson(dir, 'b.json', config(9, { configService: { port: 0, host: '0.0.0.0' } })), '--no-state', '--api-token', 'a-token']);
  t.notOk(warned(tok.logs), '0.0.0.0 with a token: no warning');
});
