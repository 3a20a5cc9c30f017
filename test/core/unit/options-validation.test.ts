import t from 'tap';
import { resolveOptions, createProxy } from '../../../src/core/index.js';
import { refusesEach, type Refusal } from '../../helpers/refusals.js';

t.test('defaults are filled in and frozen', async (t) => {
  const o = resolveOptions({});
  t.equal(o.cookies.session.name, 'dynsoftup');
  t.equal(o.cookies.transition.name, 'transition');
  t.equal(o.limits.headSize, 65536);
  t.equal(o.health.onVersionDown, 'keep');
  t.ok(Object.isFrozen(o) && Object.isFrozen(o.timeouts));
});

t.test('bad options are refused at the door with the field and a hint', async (t) => {
  const cases: Refusal[] = [
    [{ port: -1 }, 'port', /integer from 0 to 65535/],
    [{ port: '80' }, 'port', /integer/],
    [{ host: '' }, 'host', /host name/],
    [{ clusters: [] }, 'clusters', /use versions instead/],
    [{ timeouts: { connectTimeout: 5 } }, 'timeouts.connectTimeout', /use timeouts.connect instead/],
    [{ timeouts: { banana: 5 } }, 'timeouts.banana', /unknown option \(expected one of connect, head, idle/],
    [{ idleTimeout: 5 }, 'idleTimeout', /use timeouts.idle instead/],
    [{ timeouts: { idle: 0 } }, 'timeouts.idle', /integer from 1/],
    [{ timeouts: 5 }, 'timeouts', /must be an object/],
    [{ limits: { headSize: 10 } }, 'limits.headSize', /integer from 256/],
    [{ cookies: { session: { name: 'bad name' } } }, 'cookies.session.name', /cookie name/],
    [{ cookies: { session: { sameSite: 'lax' } } }, 'cookies.session.sameSite', /Strict, Lax or None/],
    [{ cookies: { session: { sameSite: 'None' } } }, 'cookies.session.sameSite', /needs secure: true/],
    [{ cookies: { session: { name: 'x' }, transition: { name: 'x' } } }, 'cookies.transition.name', /must differ/],
    [{ health: { onVersionDown: 'delete' } }, 'health.onVersionDown', /"keep" or "remove"/],
    [{ health: { active: { path: 'no-slash' } } }, 'health.active.path', /starting with \//],
    [{ nonHttp: 'drop' }, 'nonHttp', /"reject" or "tcp"/],
    [{ versions: {} }, 'versions', /array/],
  ];
  refusesEach(t, (input) => resolveOptions(input), 'UPS_ERR_INVALID_OPTION', cases);
});

t.test('createProxy reports a bad initial version with its index', async (t) => {
  await t.rejects(createProxy({ host: '127.0.0.1', versions: [{ version: '1', servers: [{ hostname: '127.0.0.1', port: 0 }] }] }), {
    code: 'UPS_ERR_INVALID_VERSION', field: 'versions[0].servers[0].port',
  });
});

t.test('options a mode would ignore are refused with the field named', async (t) => {
  t.throws(() => resolveOptions({ mode: 'stream', http: { retries: 1 } }), { code: 'UPS_ERR_INVALID_OPTION', field: 'http.retries', message: /only applies to mode "http"/ });
  t.throws(() => resolveOptions({ mode: 'stream', http: { xForwardedFor: true } }), { code: 'UPS_ERR_INVALID_OPTION', field: 'http.xForwardedFor' });
  t.throws(() => resolveOptions({ mode: 'http', nonHttp: 'tcp' }), { code: 'UPS_ERR_INVALID_OPTION', field: 'nonHttp', message: /only applies to mode "stream"/ });
  t.equal(resolveOptions({ mode: 'http', nonHttp: 'reject', http: { retries: 1 } }).http.retries, 1);
  t.equal(resolveOptions({ mode: 'stream', nonHttp: 'tcp' }).nonHttp, 'tcp');
});

t.test('http mode is the default; raw TCP needs stream mode said', async (t) => {
  t.equal(resolveOptions({}).mode, 'http');
  t.equal(resolveOptions({ http: { retries: 1 } }).http.retries, 1);
  t.throws(() => resolveOptions({ nonHttp: 'tcp' }), { code: 'UPS_ERR_INVALID_OPTION', field: 'nonHttp', message: /set mode "stream"/ });
  t.equal(resolveOptions({ mode: 'stream' }).mode, 'stream');
});
