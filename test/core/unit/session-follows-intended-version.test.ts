import t from 'tap';
import { route } from '../../../src/core/index.js';
import { validateVersion } from '../../../src/core/routing/spec.js';
import { VersionState } from '../../../src/core/routing/version.js';
import { nextSeq, version } from './_routing.js';

const facts = (sessionCookie?: string) => ({ method: 'GET', sessionCookie, transitionCookie: undefined });
const NOW = 1_000_000;

for (const mode of ['INSTANT', 'SESSION', 'GRADUAL', 'CONCURRENT']) {
  t.test(`${mode}: an ejected newest keeps the sessions meant for it`, async (t) => {
    const extra = mode === 'GRADUAL' ? { initialPercentage: 100 } : {};
    const snap = [version('2.0', 'v2', mode, extra), version('1.0', 'v1')];
    snap[0]!.servers[0]!.ejectedUntil = NOW + 1000;
    const p = route(snap, facts('v2~AbCdEfGh12345678~1'), NOW);
    t.equal(p.targets[0]!.uuid, 'v1', 'the previous version serves');
    t.equal(p.sessionVersion?.uuid, 'v2', 'the cookie keeps naming the newest');
    snap[0]!.standing = { state: 'rolled-back', reason: 'errors', at: NOW, evidence: undefined };
    t.equal(route(snap, facts('v2~AbCdEfGh12345678~1'), NOW).sessionVersion?.uuid, 'v1', 'rolled back: the session moves');
  });
}

t.test('SESSION: an old session whose version is ejected for a while stays on it', async (t) => {
  const snap = [version('2.0', 'v2', 'SESSION'), version('1.0', 'v1')];
  snap[1]!.servers[0]!.ejectedUntil = NOW + 1000;
  const p = route(snap, facts('v1~AbCdEfGh12345678~1'), NOW);
  t.equal(p.targets[0]!.uuid, 'v2');
  t.equal(p.sessionVersion?.uuid, 'v1');
  t.equal(route(snap, facts('v1~AbCdEfGh12345678~1'), NOW + 1001).targets[0]!.uuid, 'v1', 'and returns when it is back');
});

t.test('a version without servers yet (launching) is not a session\'s home', async (t) => {
  const snap = [new VersionState(validateVersion({ uuid: 'v2', version: '2.0', upgradeTransition: { mode: 'SESSION' } }, { serversOptional: true }), nextSeq()), version('1.0', 'v1')];
  const p = route(snap, facts(), NOW);
  t.equal(p.targets[0]!.uuid, 'v1');
  t.equal(p.sessionVersion?.uuid, 'v1');
});

t.test('a removed version is not named: its sessions go to the version that serves them', async (t) => {
  const snap = [version('2.0', 'v2', 'SESSION'), version('1.0', 'v1')];
  t.equal(route(snap, facts('gone~AbCdEfGh12345678~1'), NOW).sessionVersion?.uuid, 'v2');
  t.equal(route(snap, facts('v1'), NOW).sessionVersion?.uuid, 'v1', "the prototype's value keeps its session");
});
