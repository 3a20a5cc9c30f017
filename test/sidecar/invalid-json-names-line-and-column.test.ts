import t from 'tap';
import { jsonErrorAt } from '../../src/sidecar/json.js';
import { Writable } from 'node:stream';
import { startSidecar } from '../../src/sidecar/index.js';
import { api, runBinary, tmpDir, writeJson } from './helpers.js';

// A JSON text that does not parse is reported with the place it went wrong.
t.test('the place of the first error', async (t) => {
  const cases: Array<[string, string]> = [
    ['{"proxy": ', 'line 1, column 11: unexpected end of input, expected a value'],
    ['{\n  "a": 1,\n  "b": }', 'line 3, column 8: unexpected "}", expected a value'],
    ['{"a":1}x', 'line 1, column 8: unexpected "x", expected the end after the JSON value'],
    ['', 'line 1, column 1: unexpected end of input, expected a value'],
    ['{"a" 1}', 'line 1, column 6: unexpected "1", expected ":"'],
    ['[1,2,]', 'line 1, column 6: unexpected "]", expected a value'],
    ['{"a":"x\ny"}', 'line 1, column 6: unexpected "\\"", expected a string with valid escapes and no control characters'],
    ['{"a":tru}', 'line 1, column 6: unexpected "t", expected a value'],
    ['{"a":1,}', 'line 1, column 8: unexpected "}", expected a "key"'],
    ['{"a": 01}', 'line 1, column 8: unexpected "1", expected , or }'],
    ['['.repeat(100_000), `line 1, column 100001: unexpected end of input, expected a value`],
  ];
  for (const [text, where] of cases) {
    t.throws(() => JSON.parse(text), `${JSON.stringify(text.slice(0, 20))} is not JSON`);
    t.equal(jsonErrorAt(text), where, JSON.stringify(text.slice(0, 20)));
  }
});

t.test('the config file, the state file, a REST body and the CLI say where', async (t) => {
  const dir = tmpDir(t);
  const r = await runBinary(['--config', writeJson(dir, 'c.json', '{\n  "proxy": {"port": 0},\n  "configService": {"port": 0,}\n}'), '--no-state']);
  t.equal(r.code, 1);
  t.match(r.stderr, /^upshift: config: .*c\.json is not valid JSON: line 3, column 31: unexpected "}"/);
  const patch = await runBinary(['cluster', 'patch', 'v1', '{"percentage": 5', '--api', '127.0.0.1:1']);
  t.equal(patch.code, 1);
  t.equal(patch.stderr, 'upshift: <json>: is not valid JSON: line 1, column 17: unexpected end of input, expected , or }, got "{\\"percentage\\": 5"\n');
  const state = await runBinary(['--config', writeJson(dir, 'ok.json', { proxy: { port: 0, host: '127.0.0.1' }, configService: { port: 0 }, cluster: { version: '1', servers: [{ hostname: '127.0.0.1', port: 1 }] } }), '--state', writeJson(dir, 'state.json', '{"format": "upshift-state/1",\n"clusters": [}')]);
  t.equal(state.code, 1);
  t.match(state.stderr, /state\.json: is not valid JSON \(line 2, column 14: unexpected "}", expected a value\)/);
  const sc = await startSidecar({ proxy: { port: 0, host: '127.0.0.1' }, configService: { port: 0 }, cluster: { version: '1', servers: [{ hostname: '127.0.0.1', port: 1 }] } },
    { logStream: new Writable({ write: (_c, _e, cb) => cb() }) });
  t.teardown(() => sc.close({ drainTimeout: 0 }));
  const put = await api(sc.apiAddress.port, 'PUT', '/configuration/cluster', '{"cluster": {"version": "2",\n "servers": []]}}');
  t.equal(put.status, 400);
  t.same(put.json.error, { code: 'UPS_ERR_BAD_BODY', message: 'body: is not valid JSON: line 2, column 15: unexpected "]", expected , or }', field: 'body' });
});
