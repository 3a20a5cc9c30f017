import t from 'tap';
import { validateVersion } from '../../../src/core/index.js';

// A version name is printed by the CLI and emitted as a Prometheus label:
// control characters in it would rewrite a terminal or break a scrape.

const base = { servers: [{ hostname: '127.0.0.1', port: 1 }] };

t.test('control characters in version are refused, and the error shows them escaped', async (t) => {
  const bad: Record<string, string> = {
    CR: '1.0\r', LF: '1.0\nINJECTED 1', NUL: '1\u00000', ESC: '1\u001b[2J', TAB: '1.0\t', DEL: '1\u007f', C1: '1\u0085', CSI: '1\u009b31m',
    RLO: '1.0\u202e', LRI: '\u20661.0', 'ALM': '1\u061c', LRM: '1\u200e', 'LINE SEPARATOR': '1\u2028',
  };
  for (const [name, version] of Object.entries(bad)) {
    let err: { code?: string; field?: string; message?: string } | undefined;
    try { validateVersion({ ...base, version }); } catch (e) { err = e as typeof err; }
    t.equal(err?.code, 'UPS_ERR_INVALID_VERSION', `${name}: refused`);
    t.equal(err?.field, 'cluster.version', `${name}: names the field`);
    t.notOk(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u2028\u202e\u2066]/.test(err?.message ?? ''), `${name}: the message holds the character escaped, not raw`);
  }
});

t.test('ordinary names, unicode included, are accepted', async (t) => {
  for (const version of ['1.0.0', '2.0.0-rc.1+build.5', 'v10', 'release 2026-12', 'версия-3', '1.0 🚀']) {
    t.equal(validateVersion({ ...base, version }).version, version, JSON.stringify(version));
  }
});
