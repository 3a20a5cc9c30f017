import { Writable } from 'node:stream';
import t from 'tap';
import { startSidecar } from '../../src/sidecar/index.js';
import { api, config } from './helpers.js';

// /status is indented for a person (curl's Accept: */*, a browser) and
// compact for a program that names JSON or asks with ?compact.
t.test('/status is pretty unless the client asks for compact JSON', async (t) => {
  const sc = await startSidecar(config(1), { logStream: new Writable({ write: (_c, _e, cb) => cb() }) });
  t.teardown(() => sc.close({ drainTimeout: 0 }));
  const A = sc.apiAddress.port;
  const lines = (text: string) => text.trimEnd().split('\n').length;

  const curl = await api(A, 'GET', '/status', undefined, { accept: '*/*' });
  t.ok(lines(curl.text) > 10, 'curl gets indented JSON');
  t.match(curl.text, /^\{\n {2}"address": \{\n/);
  t.equal(curl.json.versions[0].uuid, 'v1', 'still JSON');
  t.ok(lines((await api(A, 'GET', '/status')).text) > 10, 'no Accept at all: indented');

  const program = await api(A, 'GET', '/status', undefined, { accept: 'application/json' });
  t.equal(lines(program.text), 1, 'a client that names JSON gets one line');
  t.same(program.json, curl.json);
  t.equal(lines((await api(A, 'GET', '/status?compact')).text), 1, '?compact');
  t.ok(lines((await api(A, 'GET', '/status?pretty', undefined, { accept: 'application/json' })).text) > 10, '?pretty wins over Accept');
});
