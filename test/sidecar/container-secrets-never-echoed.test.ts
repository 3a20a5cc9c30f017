import t from 'tap';
import { fakeEngine } from '../helpers/fake-docker-engine.js';
import { until } from '../helpers/net.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

// Environment values are secrets. An engine's answer may echo them raw,
// JSON-escaped or URL-encoded; none of these may reach a log line, GET or
// /status, short values included (where they stand alone).

const SECRETS = {
  QUOTED: 'pa"ss\\wo\nrd-77',
  URLISH: 'a b&c=d/é?x',
  SHORT: 'xq7',
  TWO: 'Qz',
} as const satisfies Record<string, string>;

/** Every form the test expects to be hidden: raw, JSON-escaped, URL-encoded (%20 or +, both hex cases). */
function forms(v: string): string[] {
  const json = JSON.stringify(v).slice(1, -1);
  const url = encodeURIComponent(v);
  return [...new Set([v, json, url, url.replace(/%20/g, '+'), url.toLowerCase()])];
}

function echo(): string {
  const s = SECRETS;
  return `invalid environment ["QUOTED=${JSON.stringify(s.QUOTED).slice(1, -1)}","URLISH=${s.URLISH}"] `
    + `query=${encodeURIComponent(s.URLISH).toLowerCase()}&q=${encodeURIComponent(s.QUOTED)} form=${encodeURIComponent(s.URLISH).replace(/%20/g, '+')} `
    + `short=${s.SHORT},${s.TWO}`;
}

t.test('engine answers that echo environment values are redacted in every encoding', async (t) => {
  const engine = await fakeEngine();
  engine.onCreate = (body) => (body.Labels?.['io.upshift.uuid'] === 'v2' ? { status: 500, message: echo() } : undefined);
  engine.onStart = (c) => {
    if (c.labels['io.upshift.uuid'] !== 'v3') return;
    c.running = false;
    c.state = { ExitCode: 1, Error: `exec failed: ${echo()}` };
  };
  t.teardown(() => engine.close());
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(9, { dockerHost: engine.address })), '--no-state', '--log-level', 'debug']);
  const port = sc.apiPort;
  const containers = [{ image: 'app', portToProxy: 8080, readiness: { type: 'none' }, environment: SECRETS }];
  for (const uuid of ['v2', 'v3']) {
    t.equal((await api(port, 'PUT', '/configuration/cluster', { cluster: { uuid, version: `${uuid}.0`, containers } })).status, 202);
    t.ok(await until(async () => (await api(port, 'GET', `/configuration/cluster/${uuid}`)).json?.cluster?.launch?.state === 'failed', 10_000, 50), `${uuid} fails`);
  }
  const v2 = (await api(port, 'GET', '/configuration/cluster/v2')).json.cluster.launch.message as string;
  const v3 = (await api(port, 'GET', '/configuration/cluster/v3')).json.cluster.launch.message as string;
  t.match(v2, /^cannot create container .*: invalid environment .*\*\*\*/, `the create failure says what happened: ${v2}`);
  t.match(v3, /exited with code 1: exec failed: invalid environment .*\*\*\*/, `the exit says what happened: ${v3}`);

  const said = [
    ...sc.logs,
    (await api(port, 'GET', '/configuration/cluster')).text,
    (await api(port, 'GET', '/status')).text,
  ].join('\n');
  for (const [name, value] of Object.entries(SECRETS)) {
    for (const f of forms(value)) {
      // Short values are hidden where they stand alone (not inside another word).
      const found = value.length < 4 ? new RegExp(`(?<![A-Za-z0-9])${f}(?![A-Za-z0-9])`).test(said) : said.includes(f);
      t.notOk(found, `${name} as ${JSON.stringify(f)} appears nowhere`);
    }
  }
  t.ok(engine.containers.size > 0 && [...engine.containers.values()].every((c) => c.env.includes(`QUOTED=${SECRETS.QUOTED}`)), 'the engine did get the values');
});
