import t from 'tap';
import { ProxyEventEmitter } from '../../../src/core/events.js';
import { Judge } from '../../../src/core/judge/judge.js';
import { DEFAULT_JUDGE, mergeJudge, validateJudge, type JudgeOptions } from '../../../src/core/judge/options.js';
import type { Outcome } from '../../../src/core/judge/types.js';
import { judgeErrors, wilsonLower, wilsonUpper } from '../../../src/core/judge/verdict.js';
import { validateVersion } from '../../../src/core/routing/spec.js';
import { RoutingTable } from '../../../src/core/routing/table.js';
import type { VersionState } from '../../../src/core/routing/version.js';

/** A small seeded PRNG (mulberry32): the same seed gives the same run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Rig {
  judge: Judge;
  table: RoutingTable;
  v1: VersionState;
  v2: VersionState;
  rollbacks: Array<{ reason: string; evidence: unknown }>;
  /** Advances the clock by 1 ms per request of the newest. */
  clock: { now: number };
  one(v: VersionState, outcome: Outcome, firstByteMs?: number): void;
}

function rig(judge: Partial<Record<string, unknown>> = {}): Rig {
  const table = new RoutingTable();
  const server = [{ hostname: '127.0.0.1', port: 1 }];
  const v1 = table.add(validateVersion({ uuid: 'v1', version: '1.0', servers: server }));
  const v2 = table.add(validateVersion({ uuid: 'v2', version: '2.0', servers: server }));
  const events = new ProxyEventEmitter();
  const rollbacks: Rig['rollbacks'] = [];
  events.on('rollback', (p) => rollbacks.push({ reason: p.reason, evidence: p.evidence }));
  const clock = { now: 1_000_000 };
  const opts: JudgeOptions = mergeJudge(DEFAULT_JUDGE, validateJudge(judge, 'judge', (f, m) => new Error(`${f}: ${m}`)));
  const j = new Judge(1, opts, table, events, (v, p) => { v.percentage = p; }, () => clock.now);
  return {
    judge: j, table, v1, v2, rollbacks, clock,
    one(v, outcome, firstByteMs) {
      // One tick per request of the newest: the previous version's requests share its times (the same period).
      if (v === v2) clock.now++;
      j.record({ attempts: [{ version: v, outcome, ...(firstByteMs !== undefined ? { firstByteMs } : {}) }], idempotent: true });
    },
  };
}

/** Requests until the newest is rolled back (Infinity if it never is within `max`). */
function untilRollback(r: Rig, max: number, fails: (i: number) => boolean, prevShare = 0, rnd = prng(7)): number {
  for (let i = 1; i <= max; i++) {
    r.one(r.v2, fails(i) ? 'status' : 'good');
    if (r.v2.standing.state === 'rolled-back') return i;
    if (prevShare > 0 && rnd() < prevShare) r.one(r.v1, 'good');
  }
  return Infinity;
}

t.test('Wilson bounds bracket the proportion', async (t) => {
  t.equal(wilsonLower(0, 0, 3), 0);
  t.equal(wilsonUpper(0, 0, 3), 1);
  t.ok(wilsonLower(20, 20, 3) > 0.6 && wilsonLower(20, 20, 3) < 0.75);
  t.ok(wilsonUpper(0, 1000, 3) < 0.01);
  t.ok(wilsonLower(45, 150, 3) < 0.3 && wilsonUpper(45, 150, 3) > 0.3);
});

t.test('a newest failing 100 % is rolled back within 20 requests, whatever the reference', async (t) => {
  // No reference at all (INSTANT right after both were added).
  let r = rig();
  const n1 = untilRollback(r, 100, () => true);
  t.ok(n1 <= 20, `absolute rung: rolled back after ${n1}`);
  t.equal(r.rollbacks[0]?.reason, 'errors');
  t.match(r.rollbacks[0]?.evidence, { reference: { rung: 'absolute' }, newest: { failures: n1 } });
  // The previous version's recent history (it served alone before).
  r = rig();
  for (let i = 0; i < 500; i++) r.one(r.v1, 'good');
  const n2 = untilRollback(r, 100, () => true);
  t.ok(n2 <= 20, `history rung: rolled back after ${n2}`);
  t.match(r.rollbacks[0]?.evidence, { reference: { rung: 'history', requests: 500, failures: 0 } });
  // Both serving in the same period (GRADUAL, SESSION, CONCURRENT).
  r = rig();
  const n3 = untilRollback(r, 100, () => true, 1);
  t.ok(n3 <= 20, `same-period rung: rolled back after ${n3}`);
  // At the 10th request the previous version has only 9 outcomes of its own: the absolute rung decides.
  t.match(r.rollbacks[0]?.evidence, { reference: { rung: 'absolute' } });
});

t.test('a newest failing 30 % is rolled back within 150 requests (50 seeds, each rung)', async (t) => {
  const worst = { absolute: 0, history: 0, 'same-period': 0 };
  for (let seed = 1; seed <= 50; seed++) {
    for (const rung of Object.keys(worst) as Array<keyof typeof worst>) {
      const r = rig();
      const rnd = prng(seed * 31 + rung.length);
      if (rung === 'history') for (let i = 0; i < 1000; i++) r.one(r.v1, rnd() < 0.01 ? 'status' : 'good');
      const n = untilRollback(r, 1000, () => rnd() < 0.3, rung === 'same-period' ? 1 : 0, rnd);
      worst[rung] = Math.max(worst[rung], n);
    }
  }
  t.comment(`worst requests until rollback: ${JSON.stringify(worst)}`);
  for (const [rung, n] of Object.entries(worst)) t.ok(n <= 150, `${rung}: worst ${n}`);
});

t.test('both versions failing 1 % at random: no rollback in 10^6 requests', async (t) => {
  // Same period (both serving, as GRADUAL at 50 % or CONCURRENT).
  let r = rig();
  let rnd = prng(20261201);
  for (let i = 0; i < 500_000; i++) {
    r.one(r.v1, rnd() < 0.01 ? 'status' : 'good');
    r.one(r.v2, rnd() < 0.01 ? 'status' : 'good');
  }
  t.equal(r.rollbacks.length, 0, 'same period: 0 rollbacks');
  t.equal(r.v2.standing.state, 'judged');
  // INSTANT: the previous version's history only, then every request on the newest.
  r = rig();
  rnd = prng(42);
  for (let i = 0; i < 1000; i++) r.one(r.v1, rnd() < 0.01 ? 'status' : 'good');
  for (let i = 0; i < 1_000_000; i++) r.one(r.v2, rnd() < 0.01 ? 'reset' : 'good');
  t.equal(r.rollbacks.length, 0, 'history: 0 rollbacks');
  t.equal(r.judge.status(r.v2).verdict, 'pass');
});

t.test('the minimum sample holds the verdict back', async (t) => {
  const r = rig({ minSample: 30 });
  for (let i = 0; i < 29; i++) r.one(r.v2, 'status');
  t.equal(r.v2.standing.state, 'judged', '29 failures of 29 is below the minimum sample');
  t.equal(r.judge.status(r.v2).verdict, 'too-few');
  r.one(r.v2, 'status');
  t.equal(r.v2.standing.state, 'rolled-back', 'the 30th decides');
});

t.test('paired evidence: a request failing on the newest and the previous counts against neither', async (t) => {
  const r = rig();
  for (let i = 0; i < 200; i++) {
    r.clock.now++;
    r.judge.record({ attempts: [{ version: r.v2, outcome: 'status', status: 500 }, { version: r.v1, outcome: 'status', status: 500 }], idempotent: true });
    r.one(r.v2, 'good');
  }
  t.equal(r.rollbacks.length, 0);
  const s = r.judge.status(r.v2);
  t.equal(s.window.failures, 0);
  t.equal(s.window.excused, 200);
  // Failed on the newest and the previous, answered by an older one: still not the newest's fault.
  const v0 = r.table.add(validateVersion({ uuid: 'v0', version: '0.9', servers: [{ hostname: '127.0.0.1', port: 1 }] }));
  r.judge.record({ attempts: [{ version: r.v2, outcome: 'timeout' }, { version: r.v1, outcome: 'reset' }, { version: v0, outcome: 'good', status: 200 }], idempotent: true });
  t.equal(r.judge.status(r.v2).window.failures, 0);
  t.equal(r.judge.status(v0).window.good, 1, 'the version that answered well counts it');
  // The newest failing where the previous answers well is the newest's fault.
  for (let i = 0; i < 150 && r.v2.standing.state === 'judged'; i++) {
    r.clock.now++;
    r.judge.record({ attempts: [{ version: r.v2, outcome: 'status', status: 500 }, { version: r.v1, outcome: 'good', status: 200 }], idempotent: true });
  }
  t.equal(r.v2.standing.state, 'rolled-back', 'rolled back on the failures the previous version did not share');
});

t.test('failed connects name the reason unreachable', async (t) => {
  const r = rig();
  for (let i = 0; i < 20 && r.v2.standing.state === 'judged'; i++) {
    r.clock.now++;
    r.judge.record({ attempts: [{ version: r.v2, outcome: 'unreachable' }, { version: r.v1, outcome: 'good', status: 200 }], idempotent: true });
  }
  t.equal(r.rollbacks[0]?.reason, 'unreachable');
});

t.test('latency rule: off by default, rolls back a slow newest when on', async (t) => {
  const slow = (r: Rig): void => {
    for (let i = 0; i < 400 && r.v2.standing.state === 'judged'; i++) {
      r.one(r.v1, 'good', 5 + (i % 3));
      r.one(r.v2, 'good', 40 + (i % 7));
    }
  };
  let r = rig();
  slow(r);
  t.equal(r.rollbacks.length, 0, 'off by default: a slow but correct newest stays');
  r = rig({ latency: { enabled: true } });
  slow(r);
  t.equal(r.rollbacks[0]?.reason, 'latency');
  t.match(r.rollbacks[0]?.evidence, { factor: 3, newestP99: 46, referenceP99: 7 });
  // Within the factor: no rollback.
  r = rig({ latency: { enabled: true, factor: 10 } });
  slow(r);
  t.equal(r.rollbacks.length, 0, 'p99 46 ms is within 10 × 7 ms');
});

t.test('judge.enabled false: nothing is retried on status, nothing rolled back', async (t) => {
  const r = rig({ enabled: false });
  t.equal(r.judge.retryOn(500, r.v2), false);
  for (let i = 0; i < 100; i++) r.one(r.v2, 'status');
  t.equal(r.rollbacks.length, 0);
  t.equal(r.judge.status(r.v2).verdict, 'off');
  const on = rig();
  t.equal(on.judge.retryOn(502, on.v2), true);
  t.equal(on.judge.retryOn(501, on.v2), false, '501 is not in the default retryOn');
});

t.test('resume empties the window; promote stops judgement', async (t) => {
  const r = rig();
  untilRollback(r, 100, () => true);
  t.equal(r.v2.standing.state, 'rolled-back');
  r.judge.resume(r.v2);
  t.equal(r.v2.standing.state, 'judged');
  t.equal(r.judge.status(r.v2).window.requests, 0, 'counters reset');
  t.equal(r.judge.status(r.v2).lastDecision?.action, 'resume');
  r.judge.promote(r.v2);
  for (let i = 0; i < 100; i++) r.one(r.v2, 'status');
  t.equal(r.v2.standing.state, 'promoted', 'a promoted version is not judged');
  t.equal(r.judge.status(r.v2).verdict, 'promoted');
});

t.test('the rule on its own: the reference ladder', async (t) => {
  const counts = (requests: number, failures: number) => ({ requests, failures, good: requests - failures, status: failures, unreachable: 0, reset: 0, timeout: 0 });
  t.equal(judgeErrors(counts(5, 5), undefined, undefined, DEFAULT_JUDGE).verdict, 'too-few');
  const ev = judgeErrors(counts(100, 30), { requests: 5, failures: 0 }, { requests: 400, failures: 4 }, DEFAULT_JUDGE);
  t.match(ev, { verdict: 'fail', reason: 'errors', evidence: { reference: { rung: 'history', requests: 400 } } }, 'a same-period sample below the minimum is skipped');
  t.match(judgeErrors(counts(100, 12), { requests: 100, failures: 10 }, undefined, DEFAULT_JUDGE), { verdict: 'pass', evidence: { reference: { rung: 'same-period' } } }, 'both bad alike is not the newest\'s fault');
});
