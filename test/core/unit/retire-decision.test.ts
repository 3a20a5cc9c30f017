import t from 'tap';
import { resolveOptions, validateVersion } from '../../../src/core/index.js';
import { retireVerdict, type RetireFacts } from '../../../src/core/routing/retire.js';
import { refused, type Refusal } from '../../helpers/refusals.js';

const drained = { when: 'drained', maxWait: 600 } as const;
const base: RetireFacts = { policy: drained, takenOverAt: 1_000, lastActivity: 1_000, open: 0, sessionLifetimeMs: 60_000, now: 1_000 };

t.test('retire verdict', async (t) => {
  t.same(retireVerdict({ ...base, policy: { when: 'never', maxWait: 0 }, now: 10_000_000 }), { retire: false }, 'never retires with when: never');
  t.same(retireVerdict({ ...base, takenOverAt: undefined, now: 10_000_000 }), { retire: false }, 'never before a newer version took over');
  t.same(retireVerdict({ ...base, now: 60_999 }), { retire: false }, 'a session may still name it: less than a lifetime since the takeover');
  t.same(retireVerdict({ ...base, now: 61_000 }), { retire: true, reason: 'drained' }, 'drained one lifetime after the takeover with nothing served');
  t.same(retireVerdict({ ...base, lastActivity: 30_000, now: 61_000 }), { retire: false }, 'an answer it served slides the last cookie\'s expiry');
  t.same(retireVerdict({ ...base, lastActivity: 30_000, now: 90_000 }), { retire: true, reason: 'drained' });
  t.same(retireVerdict({ ...base, open: 1, now: 500_000 }), { retire: false }, 'an open connection (a WebSocket) keeps it');
  t.same(retireVerdict({ ...base, open: 1, now: 601_000 }), { retire: true, reason: 'max-wait' }, 'until maxWait after the takeover');
  t.same(retireVerdict({ ...base, lastActivity: 600_000, now: 601_000 }), { retire: true, reason: 'max-wait' }, 'active sessions do not outlive maxWait');
  t.same(retireVerdict({ ...base, sessionLifetimeMs: 0, now: 1_000 }), { retire: true, reason: 'drained' }, 'nothing pins clients (no SESSION): drained once no connection is open');
});

t.test('retire option: shorthand, object, per version, and bad values named', async (t) => {
  t.same(resolveOptions({}).retire, { when: 'never', maxWait: 3600 }, 'default: never');
  t.same(resolveOptions({ retire: 'when-drained' }).retire, { when: 'drained', maxWait: 3600 });
  t.same(resolveOptions({ retire: { maxWait: 60 } }).retire, { when: 'drained', maxWait: 60 }, 'an object means drained unless it says never');
  const spec = validateVersion({ version: '1.0', servers: [{ hostname: '127.0.0.1', port: 1 }], retire: 'when-drained' });
  t.same(spec.retire, { when: 'drained', maxWait: 3600 });
  t.equal(validateVersion({ version: '1.0', servers: [{ hostname: '127.0.0.1', port: 1 }] }).retire, undefined, 'a version without its own follows the proxy');
  const cases: Refusal[] = [
    ['drained', 'retire', /must be "when-drained", "never" or an object \{when, maxWait\}, got "drained"/],
    [{ when: 'later' }, 'retire.when', /must be "drained" or "never", got "later"/],
    [{ maxWait: -1 }, 'retire.maxWait', /integer from 0 to 31536000 seconds, got -1/],
    [{ maxwait: 5 }, 'retire.maxwait', /unknown field/],
  ];
  for (const [retire, field, rule] of cases) {
    refused(t, () => resolveOptions({ retire: retire as never }), 'UPS_ERR_INVALID_OPTION', field, rule, `proxy-wide ${JSON.stringify(retire)}`);
    refused(t, () => validateVersion({ version: '1.0', servers: [{ hostname: '127.0.0.1', port: 1 }], retire }), 'UPS_ERR_INVALID_VERSION', `cluster.${field}`, rule, `per version ${JSON.stringify(retire)}`);
  }
});
