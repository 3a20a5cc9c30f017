import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { browserOrExplain } from '../helpers/browser.js';
import { backend } from '../helpers/net.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

/** A page that records what the browser reports as going wrong (a CSP refusal, a script error) and every URL it asks for. */
async function open(t: { teardown(fn: () => unknown): void }, browser: Browser, url: string): Promise<{ page: Page; problems: string[]; urls: string[] }> {
  const context = await browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  const urls: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' && !/401 \(Unauthorized\)/.test(m.text())) problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('request', (r) => urls.push(r.url()));
  await page.goto(url);
  return { page, problems, urls };
}

const card = (page: Page, uuid: string) => page.locator(`.version[data-uuid="${uuid}"]`);

t.test('without a token: versions, a new one within 2 s, rollback from the page', async (t) => {
  const browser = await browserOrExplain(t);
  if (browser === undefined) return;
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  t.teardown(async () => { await v1.close(); await v2.close(); });
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port)), '--no-state']);
  const base = `http://127.0.0.1:${sc.apiPort}`;

  const { page, problems } = await open(t, browser, `${base}/`);
  await card(page, 'v1').waitFor({ timeout: 5000 });
  t.match(await card(page, 'v1').innerText(), /1\.0\.0[\s\S]*INSTANT[\s\S]*up/, 'v1 is shown with its mode and state');
  t.match(await card(page, 'v1').locator('.server').innerText(), new RegExp(`127\\.0\\.0\\.1:${v1.port} healthy`), 'and its server with its health');

  const put = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: v2.port }] } });
  t.equal(put.status, 202);
  const added = Date.now();
  await card(page, 'v2').waitFor({ timeout: 2000 });
  t.ok(Date.now() - added <= 2000, `a version added by PUT shows within 2 s (${Date.now() - added} ms)`);
  t.match(await card(page, 'v2').locator('.share b').innerText(), '100%', 'the newest has the share');
  t.match(await card(page, 'v1').locator('.share b').innerText(), '0%');
  t.ok(await card(page, 'v2').locator('.tag.newest').isVisible(), 'and is marked newest');
  const width = await card(page, 'v2').locator('.bar span').evaluate((el) => (el as unknown as { style: { width: string } }).style.width);
  t.equal(width, '100%', 'the share bar is drawn');
  t.match(await page.locator('#events').innerText(), /2\.0\.0 added/, 'the addition is in the last events');

  // Roll v2 back: a confirmation first, then the call.
  await card(page, 'v2').locator('button[data-action="rollback"]').click();
  const dialog = page.locator('#confirm');
  await dialog.waitFor({ state: 'visible', timeout: 2000 });
  t.match(await dialog.innerText(), /Roll back 2\.0\.0 \(v2\)\?/, 'the page asks before rolling back');
  t.equal((await api(sc.apiPort, 'GET', '/status')).json.versions[0].state, 'up', 'nothing happens before the confirmation');
  await dialog.locator('button[value="ok"]').click();
  await page.locator('#notice:not([hidden])').waitFor({ timeout: 5000 });
  t.match(await page.locator('#notice').innerText(), /Roll back: done for v2/, await page.locator('#notice').innerText());
  const status = (await api(sc.apiPort, 'GET', '/status')).json;
  t.equal(status.versions.find((v: { uuid: string }) => v.uuid === 'v2').state, 'rolled-back', 'the API says v2 is rolled back');
  await page.locator('.version[data-uuid="v2"] .state.rolled-back').waitFor({ timeout: 2000 });
  t.pass('and the page shows it');
  t.equal(await card(page, 'v2').locator('button[data-action="rollback"]').count(), 0, 'a rolled-back version offers no second rollback');
  await card(page, 'v2').locator('button[data-action="resume"]').click();
  await dialog.waitFor({ state: 'visible', timeout: 2000 });
  await dialog.locator('button[value="ok"]').click();
  await page.locator('.version[data-uuid="v2"] .state.up').waitFor({ timeout: 5000 });
  t.pass('and Resume puts it back');
  t.same(problems, [], 'no script error and nothing refused by the page\'s CSP');
});

t.test('with a token the page asks for it and keeps it out of URLs', async (t) => {
  const browser = await browserOrExplain(t);
  if (browser === undefined) return;
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const token = 'page-s3cret';
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port)), '--no-state', '--api-token', token]);
  const base = `http://127.0.0.1:${sc.apiPort}`;

  const served = await api(sc.apiPort, 'GET', '/');
  t.equal(served.status, 200, 'the page itself is served without the token (it holds no data)');
  t.match(served.headers['content-type'], /^text\/html/);
  t.match(served.headers['content-security-policy'], /default-src 'none'.*frame-ancestors 'none'/);
  t.notMatch(served.text, /1\.0\.0|127\.0\.0\.1/, 'and carries nothing of the sidecar\'s state');
  t.equal((await api(sc.apiPort, 'GET', '/status')).status, 401, 'while its data still needs the token');

  const { page, problems, urls } = await open(t, browser, `${base}/`);
  await page.locator('#token').waitFor({ state: 'visible', timeout: 5000 });
  t.notOk(await card(page, 'v1').isVisible(), 'no version is shown before the token');

  await page.fill('#token-input', 'wrong');
  await page.click('#token button[type="submit"]');
  await page.locator('#token-msg', { hasText: 'refused' }).waitFor({ timeout: 5000 });
  t.pass('a wrong token is refused and asked for again');

  await page.fill('#token-input', token);
  await page.click('#token button[type="submit"]');
  await card(page, 'v1').waitFor({ timeout: 5000 });
  t.ok(await page.locator('#token').isHidden(), 'the right token opens the page');
  t.match(await card(page, 'v1').innerText(), /1\.0\.0/);
  t.ok(urls.length > 2 && urls.every((u) => !u.includes(token) && !u.includes('wrong')), 'no URL the page asked for carries the token');
  t.equal(page.url(), `${base}/`);
  t.same(problems, []);
});
