import { Writable } from 'node:stream';
import t from 'tap';
import { createProxy } from '../../src/core/index.js';
import { nearest, unknownName } from '../../src/core/suggest.js';
import { startSidecar } from '../../src/sidecar/index.js';
import { api, config, runBinary, tmpDir, writeJson } from './helpers.js';

// A typo in a field name is answered with the nearest known field, the same
// way in the config file, REST bodies and the library's options.
t.test('the nearest known name, only when it is near', async (t) => {
  t.equal(nearest('prot', ['port', 'host']), 'port', 'a swap of neighbours is one slip');
  t.equal(nearest('Port', ['port']), 'port', 'case does not count');
  t.equal(nearest('upgradeTransiton', ['version', 'servers', 'upgradeTransition']), 'upgradeTransition');
  t.equal(nearest('colour', ['version', 'servers', 'upgradeTransition']), undefined, 'nothing near: no guess');
  t.equal(unknownName('field', 'prot', ['port', 'host']), 'unknown field prot — did you mean port?');
  t.equal(unknownName('field', 'colour', ['port', 'host']), 'unknown field (expected one of port, host)', 'nothing near: the list');
});

t.test('config file: "prot" is a typo of port, not a missing port', async (t) => {
  const dir = tmpDir(t);
  const r = await runBinary(['--config', writeJson(dir, 'c.json', { ...config(3000), proxy: { prot: 8080 } }), '--no-state']);
  t.equal(r.code, 1);
  t.equal(r.stderr, 'upshift: proxy.prot: unknown field prot — did you mean port?\n');
  const nested = await runBinary(['--config', writeJson(dir, 'd.json', config(3000, { cluster: { version: '1', servers: [{ hostnme: 'h', port: 1 }] } })), '--no-state']);
  t.equal(nested.stderr, 'upshift: cluster.servers[0].hostnme: unknown field hostnme — did you mean hostname?\n');
});

t.test('REST bodies', async (t) => {
  const sc = await startSidecar(config(1), { logStream: new Writable({ write: (_c, _e, cb) => cb() }) });
  t.teardown(() => sc.close({ drainTimeout: 0 }));
  const A = sc.apiAddress.port;
  const put = await api(A, 'PUT', '/configuration/cluster', { cluster: { version: '2', servers: [{ hostname: '127.0.0.1', port: 1 }], upgradeTransiton: { mode: 'SESSION' } } });
  t.equal(put.status, 400);
  t.same(put.json.error, { code: 'UPS_ERR_INVALID_VERSION', field: 'cluster.upgradeTransiton', message: 'cluster.upgradeTransiton: unknown field upgradeTransiton — did you mean upgradeTransition?' });
  const patch = await api(A, 'PATCH', '/configuration/cluster/v1', { cluster: { percentag: 5 } });
  t.equal(patch.status, 400);
  t.equal(patch.json.error.message, 'cluster.percentag: unknown field percentag — did you mean percentage?');
  const wrapper = await api(A, 'PUT', '/configuration/cluster', { clustr: {} });
  t.equal(wrapper.json.error.message, 'clustr: unknown field clustr — did you mean cluster? (the body is {"cluster": {...}})');
});

t.test('library options', async (t) => {
  await t.rejects(createProxy({ timeouts: { conect: 5 } } as never), { code: 'UPS_ERR_INVALID_OPTION', field: 'timeouts.conect', message: 'timeouts.conect: unknown option conect — did you mean connect?' });
  await t.rejects(createProxy({ versions: [{ version: '1', servers: [{ hostname: 'h', prot: 1 }] }] } as never), { message: 'versions[0].servers[0].prot: unknown field prot — did you mean port?' });
});
