import t from 'tap';
import { loadUws } from '../../../src/core/engine/uws/load.js';
import { createProxy, resolveOptions } from '../../../src/core/index.js';
import { UWS_LOADS } from '../../helpers/modes.js';

t.test('engine: checked with the field named', async (t) => {
  t.equal(resolveOptions({}).engine, 'node', 'Node\'s own sockets by default');
  t.equal(resolveOptions({ engine: 'node', mode: 'stream' }).engine, 'node');
  t.throws(() => resolveOptions({ engine: 'uWS' }), { code: 'UPS_ERR_INVALID_OPTION', field: 'engine', message: /must be "node" or "uws", got "uWS"/ });
  t.throws(() => resolveOptions({ engine: 1 }), { code: 'UPS_ERR_INVALID_OPTION', field: 'engine' });
  t.throws(() => resolveOptions({ engine: 'uws', mode: 'stream' }), { code: 'UPS_ERR_INVALID_OPTION', field: 'engine', message: /only applies to mode "http"/ });
  t.equal(resolveOptions({ engine: 'uws' }).engine, 'uws', 'http mode is the default mode');
});

t.test('no build loads: a coded error saying why for each package tried', async (t) => {
  t.throws(() => loadUws(['no-such-uws-build']), {
    code: 'UPS_ERR_ENGINE_UNAVAILABLE', field: 'engine',
    message: new RegExp(`engine "uws" needs a uWebSockets.js build that loads on Node ${process.versions.node.replace(/\./g, '\\.')} .*no-such-uws-build: not installed`),
  });
  t.throws(() => loadUws(['semver']), { code: 'UPS_ERR_ENGINE_UNAVAILABLE', message: /semver: loaded, but it is not a uWebSockets\.js build/ });
  t.throws(() => loadUws(['no-such-uws-build', 'semver']), { message: /no-such-uws-build: not installed; semver: loaded, but/ }, 'every reason, in order');
});

t.test('createProxy with engine "uws"', async (t) => {
  if (!UWS_LOADS) {
    await t.rejects(createProxy({ host: '127.0.0.1', port: 0, engine: 'uws' }), { code: 'UPS_ERR_ENGINE_UNAVAILABLE' });
    return;
  }
  const p = await createProxy({ host: '127.0.0.1', port: 0, engine: 'uws' });
  t.ok(p.address.port > 0, 'listens');
  await p.close();
});
