import t from 'tap';
import { backend, get } from '../helpers/net.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

// The seed's REST scenarios, against the real binary.
t.test('add, get, list, delete round trip in the seed\'s wire format', async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  t.teardown(async () => { await v1.close(); await v2.close(); });
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port)), '--state', `${dir}/state.json`]);
  const port = sc.apiPort;

  t.equal((await get(sc.proxyPort)).body, 'v1', 'the config\'s cluster serves');

  const cluster = { version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: v2.port }], upgradeTransition: { mode: 'INSTANT' } };
  const put = await api(port, 'PUT', '/configuration/cluster', { cluster });
  t.equal(put.status, 202);
  t.match(put.headers['content-type'], /^text\/plain/, 'the seed answers the id as text');
  const uuid = put.text;
  t.match(uuid, /^[0-9a-f-]{36}$/, 'a generated uuid');
  t.equal(put.headers['location'], `/configuration/cluster/${uuid}`);

  const one = await api(port, 'GET', `/configuration/cluster/${uuid}`);
  t.equal(one.status, 200);
  t.match(one.headers['content-type'], /^application\/json/);
  t.same(one.json, { cluster: { uuid, ...cluster } }, 'GET gives back exactly what was PUT, with its uuid');

  const list = await api(port, 'GET', '/configuration/cluster');
  t.equal(list.status, 200);
  t.same(list.json.map((c: { cluster: { version: string } }) => c.cluster.version), ['2.0.0', '1.0.0'], 'newest first');
  t.same((await api(port, 'GET', '/configuration/cluster/')).json, list.json, 'the trailing slash lists too');
  t.equal((await get(sc.proxyPort)).body, 'v2', 'INSTANT: new clients go to the new version');
  const metrics = await api(port, 'GET', '/metrics');
  t.match(metrics.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  t.match(metrics.text, new RegExp(`^upshift_requests_total\\{uuid="${uuid}",version="2\\.0\\.0"\\} 1$`, 'm'), 'the binary\'s /metrics counts the request on 2.0.0');
  t.match(metrics.text, /^upshift_requests_total\{uuid="v1",version="1\.0\.0"\} 1$/m, 'and the one on 1.0.0');

  // A version that sorts lower is listed after, whatever the order of adding.
  const old = await api(port, 'PUT', '/configuration/cluster', { cluster: { uuid: 'old', version: '0.9.0', servers: [{ hostname: '127.0.0.1', port: v1.port }] } }, { accept: 'application/json' });
  t.equal(old.status, 202);
  t.same(old.json, { uuid: 'old' }, 'a client that accepts JSON gets {"uuid"}');
  t.same((await api(port, 'GET', '/configuration/cluster')).json.map((c: { cluster: { uuid: string } }) => c.cluster.uuid), [uuid, 'v1', 'old'], 'ordered by version, not by arrival');
  const tenth = await api(port, 'PUT', '/configuration/cluster', { cluster: { uuid: 'ten', version: '10.0', servers: [{ hostname: '127.0.0.1', port: v2.port }] } });
  t.equal(tenth.status, 202);
  t.equal((await api(port, 'GET', '/configuration/cluster')).json[0].cluster.uuid, 'ten', '"10.0" sorts above "2.0.0" (not string order)');

  const del = await api(port, 'DELETE', `/configuration/cluster/${uuid}`);
  t.equal(del.status, 202);
  t.equal(del.text, uuid);
  t.equal((await api(port, 'GET', `/configuration/cluster/${uuid}`)).status, 404, 'gone after DELETE');
  t.equal((await api(port, 'DELETE', `/configuration/cluster/${uuid}`)).status, 404, 'a second DELETE is 404');
});

t.test('bad clusters are refused with 400 naming the problem, and change nothing', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port)), '--no-state']);
  const port = sc.apiPort;
  const before = (await api(port, 'GET', '/configuration/cluster')).text;

  const cases: Array<[string, string | object, RegExp, string]> = [
    ['no servers', { cluster: { version: '2', servers: [] } }, /servers/, 'cluster.servers'],
    ['invalid JSON', '{invalid}', /not valid JSON/, 'body'],
    ['empty object', {}, /cluster: is required/, 'cluster'],
    ['empty body', '', /empty/, 'body'],
    ['fields of two modes, no mode', { cluster: { servers: [{ hostname: '127.0.0.1', port: 1 }], upgradeTransition: { sessionTimeout: 1, percentageTransitionPerRequest: 5 } } }, /give "mode" to say which/, 'cluster.upgradeTransition.percentageTransitionPerRequest'],
    ['port as a string', { cluster: { version: '2', servers: [{ hostname: '127.0.0.1', port: '80' }] } }, /integer from 1 to 65535/, 'cluster.servers[0].port'],
    ['servers as an object', { cluster: { version: '2', servers: { hostname: 'x' } } }, /array/, 'cluster.servers'],
    ['cluster is a string', { cluster: 'v2' }, /must be an object/, 'cluster'],
    ['body is an array', [1, 2], /must be a JSON object/, 'body'],
    ['body is null', 'null', /must be a JSON object/, 'body'],
    ['unknown mode', { cluster: { version: '2', servers: [{ hostname: '127.0.0.1', port: 1 }], upgradeTransition: { mode: 'FAST' } } }, /INSTANT, SESSION, GRADUAL, CONCURRENT/, 'cluster.upgradeTransition.mode'],
    ['sessionTimeout without SESSION', { cluster: { version: '2', servers: [{ hostname: '127.0.0.1', port: 1 }], upgradeTransition: { mode: 'INSTANT', sessionTimeout: 30 } } }, /only applies to mode SESSION/, 'cluster.upgradeTransition.sessionTimeout'],
    ['percentageTransitionPerRequest without GRADUAL', { cluster: { version: '2', servers: [{ hostname: '127.0.0.1', port: 1 }], upgradeTransition: { mode: 'SESSION', percentageTransitionPerRequest: 5 } } }, /only applies to mode GRADUAL/, 'cluster.upgradeTransition.percentageTransitionPerRequest'],
    ['negative sessionTimeout', { cluster: { version: '2', servers: [{ hostname: '127.0.0.1', port: 1 }], upgradeTransition: { mode: 'SESSION', sessionTimeout: -1 } } }, /from 1/, 'cluster.upgradeTransition.sessionTimeout'],
    ['unknown field', { cluster: { version: '2', servers: [{ hostname: '127.0.0.1', port: 1 }], colour: 'red' } }, /unknown field/, 'cluster.colour'],
    ['field beside cluster', { cluster: { version: '2', servers: [{ hostname: '127.0.0.1', port: 1 }] }, extra: 1 }, /unknown field/, 'extra'],
    ['bad uuid', { cluster: { uuid: '../etc', version: '2', servers: [{ hostname: '127.0.0.1', port: 1 }] } }, /A-Z a-z 0-9/, 'cluster.uuid'],
  ];
  for (const [name, body, message, field] of cases) {
    const r = await api(port, 'PUT', '/configuration/cluster', body);
    t.equal(r.status, 400, `${name}: 400`);
    t.match(r.headers['content-type'], /^application\/json/, `${name}: JSON error`);
    t.equal(r.json?.error?.field, field, `${name}: names ${field}`);
    t.match(r.json?.error?.message, message, `${name}: says what is wrong`);
    t.equal(r.json?.error?.code, name.startsWith('body') || ['invalid JSON', 'empty object', 'empty body', 'field beside cluster'].includes(name) ? 'UPS_ERR_BAD_BODY' : 'UPS_ERR_INVALID_VERSION', `${name}: stable code`);
  }
  const dup = await api(port, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v1', version: '3', servers: [{ hostname: '127.0.0.1', port: 1 }] } });
  t.equal(dup.status, 409, 'an existing uuid is a conflict');
  t.equal(dup.json.error.code, 'UPS_ERR_VERSION_EXISTS');

  t.equal((await api(port, 'GET', '/configuration/cluster')).text, before, 'no rejected call changed anything');
  t.equal((await api(port, 'GET', '/configuration/cluster/nope')).status, 404, 'unknown id: 404 on GET');
  t.equal((await api(port, 'DELETE', '/configuration/cluster/nope')).status, 404, 'unknown id: 404 on DELETE');
  t.equal((await api(port, 'PATCH', '/configuration/cluster/nope', { cluster: {} })).status, 404, 'unknown id: 404 on PATCH');
  t.equal((await api(port, 'GET', '/healthz')).status, 200, 'still healthy');
  t.equal(sc.child.exitCode, null, 'never crashed');
});
