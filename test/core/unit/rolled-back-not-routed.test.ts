import t from 'tap';
import { route } from '../../../src/core/index.js';
import type { VersionState } from '../../../src/core/routing/version.js';
import { facts, ids, version } from './_routing.js';

const NOW = 1_000_000;
const rollBack = (v: VersionState): void => { v.standing = { state: 'rolled-back', reason: 'errors', at: NOW, evidence: undefined }; };

for (const mode of ['INSTANT', 'SESSION', 'GRADUAL', 'CONCURRENT']) {
  t.test(`${mode}: a rolled-back newest is not a target, not even a fallback`, async (t) => {
    const extra = mode === 'GRADUAL' ? { initialPercentage: 100 } : {};
    const snap = [version('2.0', 'new', mode, extra), version('1.0', 'old')];
    rollBack(snap[0]!);
    const p = route(snap, facts({ sessionCookie: 'new', transitionCookie: 'client-abcdefgh' }), NOW);
    t.same(ids(p), ['old']);
    t.equal(p.fanOut, 1);
    t.equal(p.mode, 'INSTANT', 'the previous version\'s mode decides');
  });
}

t.test('a SESSION cookie naming a rolled-back version names the serving version on the next answer', async (t) => {
  const snap = [version('3.0', 'v3', 'SESSION', { sessionTimeout: 90 }), version('2.0', 'v2', 'SESSION', { sessionTimeout: 60 }), version('1.0', 'v1')];
  rollBack(snap[0]!);
  const p = route(snap, facts({ sessionCookie: 'v3' }), NOW);
  t.same(ids(p), ['v2', 'v1']);
  t.equal(p.sessionVersion?.uuid, 'v2', 'the cookie names the serving version');
  t.equal(p.sessionLifetime, 60, 'with its lifetime');
  const snap2 = [version('2.0', 'n', 'SESSION', { sessionTimeout: 90 }), version('1.0', 'o')];
  rollBack(snap2[0]!);
  t.equal(route(snap2, facts({ sessionCookie: 'n' }), NOW).sessionVersion?.uuid, 'o', 'under an INSTANT previous version too');
});

t.test('when every version left is rolled back, they serve rather than nobody', async (t) => {
  const snap = [version('2.0', 'new'), version('1.0', 'old')];
  rollBack(snap[0]!);
  rollBack(snap[1]!);
  t.same(ids(route(snap, facts(), NOW)), ['new', 'old']);
});

t.test('a promoted newest takes every new client (routed as INSTANT)', async (t) => {
  const snap = [version('2.0', 'new', 'GRADUAL', { initialPercentage: 0 }), version('1.0', 'old')];
  t.same(ids(route(snap, facts({ transitionCookie: 'client-abcdefgh' }), NOW)), ['old', 'new'], 'share 0: the previous version');
  snap[0]!.standing = { state: 'promoted', at: NOW };
  const p = route(snap, facts({ transitionCookie: 'client-abcdefgh' }), NOW);
  t.same(ids(p), ['new', 'old']);
  t.equal(p.mode, 'INSTANT');
  const s = [version('2.0', 'n2', 'SESSION'), version('1.0', 'o1')];
  s[0]!.standing = { state: 'promoted', at: NOW };
  t.same(ids(route(s, facts({ sessionCookie: 'o1' }), NOW)), ['n2', 'o1'], 'SESSION holders of the old version move too');
});
