import http from 'node:http';
import t from 'tap';
import { browserOrExplain } from '../helpers/browser.js';
import { backend } from '../helpers/net.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

// evil.example resolves to 127.0.0.1 in this browser: a DNS rebinding, without DNS.
const REBIND = '--host-resolver-rules=MAP evil.example 127.0.0.1';

t.test('a page of another site cannot change or read a sidecar without a token', async (t) => {
  const browser = await browserOrExplain(t, [REBIND]);
  if (browser === undefined) return;
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  const other = http.createServer((_req, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end('<!doctype html><title>elsewhere</title>'); });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  t.teardown(async () => { await v1.close(); await v2.close(); other.close(); });
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port)), '--no-state']);
  t.equal((await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: v2.port }] } })).status, 202);
  const apiBase = `http://127.0.0.1:${sc.apiPort}`;
  const context = await browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  const statuses = new Map<string, number>();
  page.on('response', (r) => statuses.set(`${r.request().method()} ${r.url()}`, r.status()));

  // A bodiless POST needs no preflight: the browser sends it, only its answer is hidden from the page.
  await page.goto(`http://127.0.0.1:${(other.address() as { port: number }).port}/`);
  await page.evaluate(async (url) => { await fetch(url, { method: 'POST', mode: 'no-cors' }); }, `${apiBase}/configuration/cluster/v2/rollback`);
  t.equal(statuses.get(`POST ${apiBase}/configuration/cluster/v2/rollback`), 403, 'a cross-site POST is refused');
  t.equal((await api(sc.apiPort, 'GET', '/status')).json.versions[0].state, 'up', 'and changed nothing');

  // The same page under a name that resolves to 127.0.0.1: same-origin to the browser, refused by its Host.
  await page.goto(`http://evil.example:${sc.apiPort}/`);
  const read = await page.evaluate(async () => { const r = await fetch('/status'); return { status: r.status, body: await r.json() as { error: { code: string; message: string } } }; });
  t.equal(read.status, 403, 'a rebound name cannot read /status');
  t.equal(read.body.error.code, 'UPS_ERR_CROSS_SITE');
  t.match(read.body.error.message, /Host "evil\.example:\d+" is not this machine's address/);

  // The page opened from the sidecar's own address works.
  await page.goto(`${apiBase}/`);
  await page.locator('.version[data-uuid="v2"]').waitFor({ timeout: 5000 });
  t.pass('the status page from the sidecar\'s own address reads and acts');
});
