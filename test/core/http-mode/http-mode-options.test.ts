import t from 'tap';
import { DEFAULT_HTTP, DEFAULT_MODE, resolveOptions } from '../../../src/core/options.js';

t.test('mode and http options: defaults, and the exact error for each bad input', async (t) => {
  const d = resolveOptions({});
  t.equal(d.mode, 'http', 'http mode unless asked');
  t.equal(DEFAULT_MODE, 'http');
  t.equal(resolveOptions({ mode: 'stream' }).mode, 'stream', 'stream mode when asked');
  t.same(d.http, DEFAULT_HTTP);
  const h = resolveOptions({ mode: 'http', http: { maxIdlePerServer: 8, maxPerServer: 20, idleTimeout: 1500, xForwardedFor: true, forwarded: true, retries: 1 } });
  t.equal(h.mode, 'http');
  t.same(h.http, { maxIdlePerServer: 8, maxPerServer: 20, idleTimeout: 1500, xForwardedFor: true, forwarded: true, retries: 1 });
  t.ok(Object.isFrozen(h.http));

  const bad: Array<[unknown, string, RegExp]> = [
    [{ mode: 'l7' }, 'mode', /must be "stream" or "http"/],
    [{ mode: 7 }, 'mode', /must be "stream" or "http"/],
    [{ http: 1 }, 'http', /must be an object/],
    [{ http: { maxIdle: 3 } }, 'http.maxIdle', /unknown option/],
    [{ http: { keepAlive: true } }, 'http.keepAlive', /use http.maxIdlePerServer instead/],
    [{ http: { maxIdlePerServer: -1 } }, 'http.maxIdlePerServer', /integer from 0 to 100000/],
    [{ http: { maxPerServer: -2 } }, 'http.maxPerServer', /integer from 0 to 1000000/],
    [{ http: { maxPerServer: '8' } }, 'http.maxPerServer', /integer from 0 to 1000000/],
    [{ http: { idleTimeout: 0 } }, 'http.idleTimeout', /integer from 1 to 86400000/],
    [{ http: { xForwardedFor: 'yes' } }, 'http.xForwardedFor', /must be a boolean/],
    [{ http: { forwarded: 1 } }, 'http.forwarded', /must be a boolean/],
    [{ http: { retries: 1.5 } }, 'http.retries', /integer from 0 to 100/],
  ];
  for (const [input, field, message] of bad) {
    t.throws(() => resolveOptions(input), { code: 'UPS_ERR_INVALID_OPTION', field, message }, `${JSON.stringify(input)} -> ${field}`);
  }
});
