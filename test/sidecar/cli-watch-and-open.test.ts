import t from 'tap';
import { backend, get } from '../helpers/net.js';
import { config, runBinary, startBinary, tmpDir, writeJson } from './helpers.js';

t.test('upshift watch prints plain frames when stdout is not a terminal, and stops after --count', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port)), '--no-state', '--api-token', 'tok']);
  for (let i = 0; i < 5; i++) await get(sc.proxyPort);
  const apiArgs = ['--api', `127.0.0.1:${sc.apiPort}`, '--api-token', 'tok'];

  const started = Date.now();
  const w = await runBinary(['watch', '--count', '2', '--interval', '0.3', ...apiArgs], {}, 20_000);
  t.equal(w.code, 0, w.stderr);
  t.ok(Date.now() - started >= 300, 'it waited the interval between the frames');
  t.notMatch(w.stdout, /\x1b/, 'no escape codes in plain mode');
  const frames = w.stdout.trimEnd().split('\n\n');
  t.equal(frames.length, 2, 'two frames, a blank line between');
  for (const f of frames) {
    t.match(f, /^upshift \d\d:\d\d:\d\d  proxy 127\.0\.0\.1:\d+  \d+ open connection\(s\)  1 version\(s\)\n/);
    t.match(f, /\nVERSION\s+UUID\s+MODE\s+STATE\s+SHARE\s+REQ\/S\s+ERRORS\s+P99\s+SESSIONS\s+OPEN\s+VERDICT\s+SERVERS\n/);
    t.match(f, new RegExp(`\\n1\\.0\\.0 \\*\\s+v1\\s+INSTANT\\s+up\\s+\\[#{10}\\] 100%\\s+\\S+\\s+0% all\\s+\\S+.*127\\.0\\.0\\.1:${v1.port} healthy`));
  }
  t.match(frames[0], /100%\s+-\s/, 'the first frame has no rate yet');
  t.match(frames[1], /100%\s+\d+\.\d\s/, 'the second has one');

  const bad = await runBinary(['watch', '--interval', 'soon', ...apiArgs]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /--interval must be a number of seconds/);
  const gone = await runBinary(['watch', '--count', '1', '--api', '127.0.0.1:1']);
  t.equal(gone.code, 1, 'nothing to watch: exits 1');
  t.match(gone.stderr, /cannot reach the config API at http:\/\/127\.0\.0\.1:1/);
});

t.test('upshift open prints the status page\'s address', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const cfgFile = writeJson(dir, 'c.json', { ...config(v1.port), configService: { port: 0, token: 'tok' } });
  const sc = await startBinary(t, ['--config', cfgFile, '--no-state']);
  const o = await runBinary(['open', '--api', `127.0.0.1:${sc.apiPort}`, '--api-token', 'tok']);
  t.equal(o.code, 0, o.stderr);
  t.equal(o.stdout, `http://127.0.0.1:${sc.apiPort}/\n`, 'the address, without the token');
  t.match(o.stderr, /asks for the API token/);
  const page = await fetch(o.stdout.trim());
  t.equal(page.status, 200);
  t.match(await page.text(), /<title>upshift status<\/title>/, 'and the page is there');
  const gone = await runBinary(['open', '--api', '127.0.0.1:1']);
  t.equal(gone.code, 1);
  t.match(gone.stderr, /cannot reach the config API/);
});
