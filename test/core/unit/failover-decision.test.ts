import t from 'tap';
import { validateVersion } from '../../../src/core/routing/spec.js';
import { VersionState } from '../../../src/core/routing/version.js';
import { DEFAULT_OPTIONS_FOR_TESTS } from './_options.js';
import {
  IDEMPOTENT, RetryBudget, firstByteDeadline, isIdempotent, mayEject, shouldRetry, type FailureFacts,
} from '../../../src/core/upstream/failover.js';

const ok: FailureFacts = { kind: 'reset', idempotent: true, replayable: true, answered: false, partial: false, clientOpen: true, retriesLeft: 3, another: true };

t.test('one idempotent set for every mode: RFC 9110 §9.2.2', async (t) => {
  t.same([...IDEMPOTENT].sort(), ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PUT', 'TRACE']);
  t.notOk(isIdempotent('POST'));
  t.notOk(isIdempotent('PATCH'));
  t.notOk(isIdempotent('get'), 'methods are case-sensitive');
});

t.test('a failure after the request went out is retried only when everything allows it', async (t) => {
  t.ok(shouldRetry(ok));
  t.ok(shouldRetry({ ...ok, kind: 'timeout' }));
  t.ok(shouldRetry({ ...ok, kind: 'status', partial: true }), 'a status comes with its head: that is not a partial answer');
  t.notOk(shouldRetry({ ...ok, idempotent: false }), 'never a method with side effects');
  t.notOk(shouldRetry({ ...ok, replayable: false }), 'not when the request bytes were not kept');
  t.notOk(shouldRetry({ ...ok, answered: true }), 'not once a byte of the answer reached the client');
  t.notOk(shouldRetry({ ...ok, partial: true }), 'not when the server had started to answer');
  t.notOk(shouldRetry({ ...ok, clientOpen: false }), 'not for a client that left');
  t.notOk(shouldRetry({ ...ok, retriesLeft: 0 }), 'not past http.retries');
  t.notOk(shouldRetry({ ...ok, another: false }), 'not when no other candidate is left: the client gets the answer');
  t.notOk(shouldRetry({ ...ok, kind: 'bad-response' }), 'never after a head that breaks the protocol');
});

t.test('only a failed connect may eject a server', async (t) => {
  t.ok(mayEject('unreachable'));
  for (const k of ['reset', 'timeout', 'status', 'bad-response'] as const) t.notOk(mayEject(k), k);
});

t.test('the first-byte deadline: the version\'s own when its transition sets one, else timeouts.firstByte', async (t) => {
  const plain = new VersionState(validateVersion({ version: '1', servers: [{ hostname: 'h', port: 1 }] }), 1);
  const conc = new VersionState(validateVersion({ version: '2', servers: [{ hostname: 'h', port: 2 }], upgradeTransition: { mode: 'CONCURRENT', firstByteTimeout: 250 } }), 2);
  t.equal(firstByteDeadline(plain, DEFAULT_OPTIONS_FOR_TESTS), DEFAULT_OPTIONS_FOR_TESTS.timeouts.firstByte);
  t.equal(firstByteDeadline(conc, DEFAULT_OPTIONS_FOR_TESTS), 250);
});

t.test('retry budget: at least `min`, else a share of the window\'s requests', async (t) => {
  const b = new RetryBudget({ percent: 20, min: 3 });
  const now = 10_000_000;
  for (let i = 0; i < 3; i++) t.ok(b.take(now), `floor retry ${i}`);
  t.notOk(b.take(now), 'the floor is spent with no requests');
  for (let i = 0; i < 20; i++) b.request(now);
  t.ok(b.take(now), '20 % of 20 requests is 4');
  t.notOk(b.take(now));
});

t.test('retry budget: a retry that ended well is given back; the window slides', async (t) => {
  const b = new RetryBudget({ percent: 20, min: 1 });
  const now = 50_000_000;
  t.ok(b.take(now));
  t.notOk(b.take(now));
  b.refund(now, now + 10);
  t.ok(b.take(now + 20), 'room again after the refund');
  t.notOk(b.take(now + 30));
  t.ok(b.take(now + 10_500), 'ten seconds on, the old retries left the window');
  b.refund(now, now + 10_550);
  t.notOk(b.take(now + 10_600), 'a refund of a retry already out of the window changes nothing');
});

t.test('retry budget: a total outage of N requests re-sends at most 20 % of N plus the floor', async (t) => {
  const b = new RetryBudget();
  let sent = 0;
  const start = 70_000_000;
  for (let i = 0; i < 1000; i++) {
    const now = start + i * 5;
    b.request(now);
    sent++;
    if (b.take(now)) sent++;
  }
  t.ok(sent <= 1.2 * 1000 + 3, `${sent} sent`);
  t.ok(sent >= 1.15 * 1000, 'and the budget is used');
});
