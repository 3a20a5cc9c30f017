import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import t from 'tap';
import { fakeEngine } from '../helpers/fake-docker-engine.js';
import { backend, get, sleep, until } from '../helpers/net.js';
import { api, config, runBinary, startBinary, tmpDir, writeJson } from '../sidecar/helpers.js';
import { figure } from './lib.js';

// Scenario 11: what an attacker or a careless operator would try against
// the sidecar (the real binary), beyond the REST table of scenario 8: empty
// tokens, uuids URL normalisation eats, control characters in names, option
// keys that hit Object.prototype, numbers JSON cannot hold, a state file that
// cannot be written, an exposed API without a token, fd exhaustion, and a
// Docker engine (fake, over HTTP) that echoes secrets, hangs, or sees a uuid
// added again while it drains. Each case counts as handled right or not.

const results: Array<{ name: string; ok: boolean }> = [];
async function check(t: { ok(v: unknown, m: string): unknown; comment(...a: unknown[]): unknown }, name: string, fn: () => Promise<boolean>): Promise<void> {
  let ok = false;
  try { ok = await fn(); } catch (err) { t.comment(`${name}: ${(err as Error).message}`); }
  results.push({ name, ok });
  t.ok(ok, name);
}

t.test('hostile inputs', async (t) => {
  const v1 = await backend('v1');
  const app = await backend('app');
  t.teardown(async () => { await v1.close(); await app.close(); });
  const dir = tmpDir(t);
  const plain = writeJson(dir, 'plain.json', config(v1.port));

  // Tokens: empty from every source is refused, exit 1.
  for (const [name, args, env] of [
    ['--api-token ""', ['--api-token', ''], {}],
    ['UPSHIFT_API_TOKEN=""', [], { UPSHIFT_API_TOKEN: '' }],
    ['--api-token "" beside an environment token', ['--api-token', ''], { UPSHIFT_API_TOKEN: 'x-token' }],
  ] as Array<[string, string[], Record<string, string>]>) {
    await check(t, `token: ${name} refused`, async () => (await runBinary(['--config', plain, '--no-state', ...args], env, 20_000)).code === 1);
  }
  await check(t, 'token: "token": "" in the config refused', async () => (await runBinary(['--config', writeJson(dir, 'tok.json', config(v1.port, { configService: { port: 0, token: '' } })), '--no-state'], {}, 20_000)).code === 1);

  // Options that reach Object.prototype or overflow a double.
  for (const [name, proxy] of [
    ['proxy.cookies.__proto__', JSON.parse('{"port": 0, "host": "127.0.0.1", "cookies": {"__proto__": {"name": "x"}}}')],
    ['proxy.timeouts.connect = 1e400', JSON.parse('{"port": 0, "host": "127.0.0.1", "timeouts": {"connect": 1e400}}')],
  ] as Array<[string, unknown]>) {
    await check(t, `options: ${name} refused with what was given`, async () => {
      const cfgFile = `${dir}/opt-${results.length}.json`;
      writeFileSync(cfgFile, JSON.stringify(config(v1.port, { proxy })).replace('"connect":null', '"connect":1e400'));
      const r = await runBinary(['--config', cfgFile, '--no-state'], {}, 20_000);
      return r.code === 1 && !/object Object|got null/.test(r.stderr) && /proxy\./.test(r.stderr);
    });
  }

  // REST: ids and names.
  const stateDir = `${dir}/state`;
  mkdirSync(stateDir);
  const sc = await startBinary(t, ['--config', plain, '--state', `${stateDir}/state.json`]);
  const before = (await api(sc.apiPort, 'GET', '/configuration/cluster')).text;
  const cluster = (extra: object): object => ({ cluster: { version: '9.0', servers: [{ hostname: '127.0.0.1', port: v1.port }], ...extra } });
  const refusedPut = async (body: object): Promise<boolean> => (await api(sc.apiPort, 'PUT', '/configuration/cluster', body)).status === 400 && (await api(sc.apiPort, 'GET', '/configuration/cluster')).text === before;
  for (const uuid of ['.', '..']) await check(t, `uuid ${JSON.stringify(uuid)} refused`, () => refusedPut(cluster({ uuid })));
  for (const [name, version] of [['CR', '9\r'], ['LF', '9\nX'], ['NUL', '9\u0000'], ['ESC', '9\u001b[2J'], ['C1', '9\u009b'], ['RLO', '9\u202e'], ['LRI', '\u20669']]) {
    await check(t, `version with ${name} refused`, () => refusedPut(cluster({ version })));
  }
  await check(t, 'PATCH of a version to one with LF refused', async () => (await api(sc.apiPort, 'PATCH', '/configuration/cluster/v1', { cluster: { version: '1\n2' } })).status === 400);

  // The state file cannot be written: nothing changes.
  renameSync(stateDir, `${stateDir}.away`);
  writeFileSync(stateDir, 'a file');
  const unchanged = async (): Promise<boolean> => (await api(sc.apiPort, 'GET', '/configuration/cluster')).text === before && (await get(sc.proxyPort)).body === 'v1';
  for (const [method, path, body] of [
    ['PUT', '/configuration/cluster', cluster({ uuid: 'v9' })],
    ['PATCH', '/configuration/cluster/v1', { cluster: { version: '1.5' } }],
    ['DELETE', '/configuration/cluster/v1', undefined],
  ] as Array<[string, string, object | undefined]>) {
    await check(t, `${method} with an unwritable state file: 500, nothing changed`, async () => {
      const r = await api(sc.apiPort, method, path, body);
      return r.status === 500 && r.json?.error?.code === 'UPS_ERR_STATE_FILE' && await unchanged();
    });
  }
  rmSync(stateDir);
  renameSync(`${stateDir}.away`, stateDir);

  // An exposed API without a token is warned about.
  await check(t, 'API on 0.0.0.0 without a token: warned', async () => {
    const open = await startBinary(t, ['--config', writeJson(dir, 'open.json', config(v1.port, { configService: { port: 0, host: '0.0.0.0' } })), '--no-state']);
    return open.logs.some((l) => /"event":"unauthenticated"/.test(l));
  });

  // Out of fds: the API still answers.
  await check(t, '256 fds, 400 held connections: /healthz answers', async () => {
    const sc = await startBinary(t, ['--config', plain, '--no-state'], {}, { fdLimit: 256 });
    const ports = { proxy: sc.proxyPort, api: sc.apiPort };
    const held = Array.from({ length: 400 }, () => net.connect(ports.proxy, '127.0.0.1').on('error', () => {}));
    await sleep(1500);
    const r = await api(ports.api, 'GET', '/healthz').catch(() => ({ status: 0 }));
    for (const s of held) s.destroy();
    return r.status === 200;
  });

  // A Docker engine that misbehaves.
  const engine = await fakeEngine(app.port);
  t.teardown(() => engine.close());
  const secret = 'pa"ss\\wo\nrd-77';
  engine.onCreate = (b) => (b.Labels?.['io.upshift.uuid'] === 's1' ? { status: 500, message: `bad env "${JSON.stringify(secret).slice(1, -1)}" ${encodeURIComponent(secret)}` } : undefined);
  const dk = await startBinary(t, ['--config', writeJson(dir, 'dk.json', config(v1.port, { dockerHost: engine.address, drainTimeout: 1000 })), '--no-state']);
  const containers = (env: Record<string, string> = {}): object[] => [{ image: 'app', portToProxy: 8080, readiness: { type: 'none' }, environment: env }];
  const launchState = async (uuid: string, want: string): Promise<boolean> => until(async () => (await api(dk.apiPort, 'GET', `/configuration/cluster/${uuid}`)).json?.cluster?.launch?.state === want, 10_000, 50);
  await check(t, 'engine echoes a secret JSON-escaped and URL-encoded: hidden', async () => {
    await api(dk.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 's1', version: '1', containers: containers({ K: secret }) } });
    await launchState('s1', 'failed');
    const said = [...dk.logs, (await api(dk.apiPort, 'GET', '/status')).text].join('\n');
    return [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)].every((f) => !said.includes(f));
  });
  await check(t, 'a uuid added again during its drain keeps its new containers', async () => {
    const body = { cluster: { uuid: 'd1', version: '2', containers: containers() } };
    await api(dk.apiPort, 'PUT', '/configuration/cluster', body);
    if (!await launchState('d1', 'ready')) return false;
    await api(dk.apiPort, 'DELETE', '/configuration/cluster/d1');
    await api(dk.apiPort, 'PUT', '/configuration/cluster', body);
    if (!await launchState('d1', 'ready')) return false;
    await sleep(2000);
    return engine.live().filter((c) => c.labels['io.upshift.uuid'] === 'd1' && c.running).length === 1 && await launchState('d1', 'ready');
  });
  await check(t, 'an engine that never answers /events: the API listens within 30 s', async () => {
    const hung = await fakeEngine(app.port);
    t.teardown(() => hung.close());
    hung.hang.add('events');
    const started = Date.now();
    const h = await startBinary(t, ['--config', writeJson(dir, 'hung.json', config(v1.port, { dockerHost: hung.address })), '--no-state']);
    return Date.now() - started < 30_000 && (await api(h.apiPort, 'GET', '/healthz')).status === 200;
  });

  const right = results.filter((r) => r.ok).length;
  figure(t, {
    scenario: '11 hostile inputs',
    inputs: `${results.length} hostile cases, ${right} handled right`,
    lost: 'none',
    notes: right === results.length ? 'tokens, ids, names, options, state file, exposed API, fds, Docker engine' : `wrong: ${results.filter((r) => !r.ok).map((r) => r.name).join('; ')}`,
  });
});
