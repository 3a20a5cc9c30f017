import { readFileSync } from 'node:fs';
import t from 'tap';
import { api, config, startBinary, tmpDir, writeJson } from '../sidecar/helpers.js';
import { figure, startBackend } from './lib.js';

// Scenario 8: the sidecar's REST config port (the real binary) against a
// table of bad inputs: wrong types, invalid JSON, unknown fields, odd ids,
// unicode, a 5 MB body, a missing or wrong token. Each must get the right 4xx
// with a JSON error naming what was wrong, and none may change anything: the
// version list and the state file are the same before and after.
const TOKEN = 'reliability-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const good = (port: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  uuid: 'v9', version: '9.0', servers: [{ hostname: '127.0.0.1', port }], upgradeTransition: { mode: 'SESSION' }, ...extra,
});

interface Row { name: string; method: string; path: string; body?: string | object; headers?: Record<string, string>; status: number }

function table(port: number): Row[] {
  const put = (name: string, body: string | object, status = 400, headers: Record<string, string> = AUTH): Row => ({ name, method: 'PUT', path: '/configuration/cluster', body, headers, status });
  const cluster = (name: string, extra: Record<string, unknown>, status = 400): Row => put(name, { cluster: good(port, extra) }, status);
  return [
    put('no token', { cluster: good(port) }, 401, {}),
    put('wrong token', { cluster: good(port) }, 401, { authorization: 'Bearer nope' }),
    put('token in the wrong scheme', { cluster: good(port) }, 401, { authorization: `Basic ${TOKEN}` }),
    put('invalid JSON', '{"cluster": {"version": "9.0",'),
    put('empty body', ''),
    put('JSON null', 'null'),
    put('a JSON array', '[]'),
    put('a JSON string', '"cluster"'),
    put('cluster is a string', { cluster: 'v9' }),
    put('cluster is an array', { cluster: [good(port)] }),
    cluster('version is a number', { version: 9 }),
    cluster('version is empty', { version: '' }),
    cluster('servers is a string', { servers: `127.0.0.1:${port}` }),
    cluster('servers is empty', { servers: [] }),
    cluster('port is a string', { servers: [{ hostname: '127.0.0.1', port: String(port) }] }),
    cluster('port out of range', { servers: [{ hostname: '127.0.0.1', port: 70000 }] }),
    cluster('port is a float', { servers: [{ hostname: '127.0.0.1', port: 80.5 }] }),
    cluster('hostname is empty', { servers: [{ hostname: '', port }] }),
    cluster('hostname is a number', { servers: [{ hostname: 127, port }] }),
    cluster('unknown server field', { servers: [{ hostname: '127.0.0.1', port, weight: 3 }] }),
    cluster('unknown cluster field', { colour: 'blue' }),
    cluster('__proto__ field', JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>),
    cluster('unknown mode', { upgradeTransition: { mode: 'FAST' } }),
    cluster('mode is a number', { upgradeTransition: { mode: 1 } }),
    cluster('negative sessionTimeout', { upgradeTransition: { mode: 'SESSION', sessionTimeout: -5 } }),
    cluster('sessionTimeout is a string', { upgradeTransition: { mode: 'SESSION', sessionTimeout: '60' } }),
    cluster('percentage step above 100', { upgradeTransition: { mode: 'GRADUAL', percentageTransitionPerRequest: 1000 } }),
    cluster('uuid with a slash', { uuid: '../etc' }),
    cluster('uuid with a space', { uuid: 'a b' }),
    cluster('uuid of 65 characters', { uuid: 'x'.repeat(65) }),
    cluster('uuid in unicode', { uuid: 'версия-9' }),
    cluster('uuid with an emoji', { uuid: 'v9-🚀' }),
    cluster('uuid is a number', { uuid: 9 }),
    cluster('uuid of an existing version', { uuid: 'v1' }, 409),
    put('unknown top-level field', { cluster: good(port), extra: true }),
    put('deeply nested JSON', `{"cluster": ${'['.repeat(5000)}${']'.repeat(5000)}}`),
    put('5 MB body', { cluster: good(port, { version: 'x'.repeat(5 * 1024 * 1024) }) }, 413),
    { name: 'PATCH of an unknown id', method: 'PATCH', path: '/configuration/cluster/nope', body: { cluster: { version: '1.1' } }, headers: AUTH, status: 404 },
    { name: 'PATCH with a wrong type', method: 'PATCH', path: '/configuration/cluster/v1', body: { cluster: { servers: 'none' } }, headers: AUTH, status: 400 },
    { name: 'PATCH changing the uuid', method: 'PATCH', path: '/configuration/cluster/v1', body: { cluster: { uuid: 'v2' } }, headers: AUTH, status: 400 },
    { name: 'PATCH with invalid JSON', method: 'PATCH', path: '/configuration/cluster/v1', body: '{', headers: AUTH, status: 400 },
    { name: 'PATCH without a token', method: 'PATCH', path: '/configuration/cluster/v1', body: { cluster: { version: '1.1' } }, headers: {}, status: 401 },
    { name: 'DELETE of a dot-dot id', method: 'DELETE', path: '/configuration/cluster/%2e%2e', headers: AUTH, status: 404 },
    { name: 'DELETE of a unicode id', method: 'DELETE', path: `/configuration/cluster/${encodeURIComponent('версия')}`, headers: AUTH, status: 404 },
    { name: 'DELETE without a token', method: 'DELETE', path: '/configuration/cluster/v1', headers: {}, status: 401 },
    { name: 'POST on the collection', method: 'POST', path: '/configuration/cluster', body: { cluster: good(port) }, headers: AUTH, status: 405 },
  ];
}

t.test('REST bad-input table: the right 4xx with a JSON error, and nothing changes', async (t) => {
  const v1 = await startBackend('v1');
  t.teardown(() => v1.kill());
  const dir = tmpDir(t);
  const state = `${dir}/state.json`;
  const cfg = writeJson(dir, 'upshift.json', config(v1.port, { configService: { port: 0, token: TOKEN } }));
  const sc = await startBinary(t, ['--config', cfg, '--state', state]);

  const listBefore = await api(sc.apiPort, 'GET', '/configuration/cluster', undefined, AUTH);
  t.equal(listBefore.status, 200);
  let stateBefore: string | undefined;
  try { stateBefore = readFileSync(state, 'utf8'); } catch { stateBefore = undefined; }

  const rows = table(v1.port);
  const wrong: string[] = [];
  for (const row of rows) {
    const r = await api(sc.apiPort, row.method, row.path, row.body, row.headers ?? {});
    const err = r.json?.error;
    const jsonError = /^application\/json/.test(String(r.headers['content-type'])) && typeof err?.code === 'string' && typeof err?.message === 'string';
    if (r.status !== row.status || !jsonError) wrong.push(`${row.name}: ${r.status} ${r.text.slice(0, 120)}`);
  }
  t.same(wrong, [], `each of ${rows.length} bad inputs got its 4xx with a JSON error`);
  t.ok(sc.child.exitCode === null && sc.child.signalCode === null, 'the sidecar is still running');

  const listAfter = await api(sc.apiPort, 'GET', '/configuration/cluster', undefined, AUTH);
  t.same(listAfter.json, listBefore.json, 'the version list is unchanged');
  let stateAfter: string | undefined;
  try { stateAfter = readFileSync(state, 'utf8'); } catch { stateAfter = undefined; }
  t.equal(stateAfter, stateBefore, 'the state file is unchanged');
  const ok = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: good(v1.port) }, AUTH);
  t.equal(ok.status, 202, 'a good request right after is still accepted');

  figure(t, {
    scenario: '8 REST bad input',
    inputs: `${rows.length} bad requests, ${rows.length - wrong.length} answered right`,
    lost: listAfter.json && JSON.stringify(listAfter.json) === JSON.stringify(listBefore.json) && stateAfter === stateBefore ? 'none (state unchanged)' : 'STATE CHANGED',
    notes: wrong.length ? `wrong: ${wrong.map((w) => w.split(':')[0]).join('; ')}` : 'statuses 400, 401, 404, 405, 409, 413',
  });
});
