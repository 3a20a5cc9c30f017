import t from 'tap';
import { resolveOptions, validateVersion } from '../../../src/core/index.js';

// Option and version errors say what the caller gave, not what JavaScript
// made of it: `__proto__` is an unknown key (not a hint "use [object Object]
// instead"), and 1e400 (Infinity once parsed) is not reported as "got null".

function error(fn: () => unknown): { code?: string; field?: string; message: string } {
  try { fn(); } catch (e) { return e as { code?: string; field?: string; message: string }; }
  return { message: '(no error)' };
}

t.test('__proto__ and constructor are unknown keys, with no hint from Object.prototype', async (t) => {
  for (const json of ['{"cookies": {"__proto__": {"name": "x"}}}', '{"__proto__": {}}', '{"timeouts": {"constructor": 5}}', '{"limits": {"toString": 5}}']) {
    const e = error(() => resolveOptions(JSON.parse(json)));
    t.equal(e.code, 'UPS_ERR_INVALID_OPTION', json);
    t.notMatch(e.message, /object Object|function|instead/, `${json}: ${e.message}`);
    t.match(e.message, /unknown option/, 'says the key is unknown');
  }
});

t.test('a number too large for a double is shown as such, not as null', async (t) => {
  const o = error(() => resolveOptions(JSON.parse('{"timeouts": {"connect": 1e400}}')));
  t.equal(o.field, 'timeouts.connect');
  t.notMatch(o.message, /got null/, o.message);
  t.match(o.message, /Infinity/, 'says what it became');
  const v = error(() => validateVersion(JSON.parse('{"version": "1", "servers": [{"hostname": "h", "port": 1e400}]}')));
  t.equal(v.field, 'cluster.servers[0].port');
  t.notMatch(v.message, /got null/, v.message);
  const s = error(() => validateVersion(JSON.parse('{"version": "1", "servers": [{"hostname": "h", "port": 1}], "upgradeTransition": {"mode": "SESSION", "sessionTimeout": -1e400}}')));
  t.match(s.message, /-Infinity/, s.message);
  const n = error(() => resolveOptions({ timeouts: { connect: null } }));
  t.match(n.message, /got null/, 'a real null is still called null');
});
