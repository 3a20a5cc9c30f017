/**
 * What the corpus tests assert about a manifest's verdicts:
 * - no FAIL (a hang, a hidden request, a smuggled request, a broken victim,
 *   a misroute), except the open core bugs listed below, and those only
 *   with exactly their known symptom;
 * - every WARN and INFO is a decision recorded in
 *   test/fixtures/http1/DECISIONS.md with that verdict: a case that starts
 *   warning without anyone having decided it is acceptable fails the test.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { CORPUS, counts, line, type CaseResult, type Verdict } from './harness.js';

/**
 * Open core bug, reported with the case ids below: a client request that the
 * origin closes without answering (CONNECT, which a plain Node server drops;
 * a body cut short by the client's FIN) counts as a server failure in
 * src/core/connection/stream.ts (StreamConnection.upstreamFailed ->
 * reportFailure -> health.failure). With the default maxFails of 1 the newest
 * version's only server is ejected and the proxy rolls every client back to
 * 1.0: the victim, holding `dynsoftup=a`, is served by origin b. Until the fix
 * lands these cases may fail, but only with that symptom (the victim broken,
 * and an ejection of version `a` observed); anything else fails the test.
 * Remove an id as soon as it passes.
 */
export const CLIENT_CAUSED_EJECTION = new Set([
  '36-connect-method',
  'desync-guardian-076',
  'llhttp-037', 'llhttp-038', 'llhttp-039',
  'http11probe-030', 'http11probe-034', 'http11probe-089',
]);

function knownEjectionSymptom(r: CaseResult): boolean {
  return CLIENT_CAUSED_EJECTION.has(r.id)
    && r.ejected.includes('a')
    && r.notes.length > 0
    && r.notes.every((n) => n.startsWith('victim probe broken') || n.startsWith('forwarded; the origin refused it'));
}

/** `| case id | VERDICT | decision |` rows of DECISIONS.md. */
export function recordedDecisions(): Map<string, Verdict> {
  const text = fs.readFileSync(path.join(CORPUS, 'DECISIONS.md'), 'utf8');
  const out = new Map<string, Verdict>();
  for (const m of text.matchAll(/^\| `([^`]+)` \| (WARN|INFO) \|/gm)) out.set(m[1]!, m[2] as Verdict);
  return out;
}

export function assertVerdicts(t: Test, manifest: string, results: readonly CaseResult[], ms: number): void {
  const n = counts(results);
  t.comment(`${manifest}: ${results.length} cases in ${(ms / 1000).toFixed(1)} s: ${n.PASS} pass, ${n.FAIL} fail, ${n.WARN} warn, ${n.INFO} info`);
  if (process.env['CORPUS_VERBOSE']) for (const r of results) t.comment(line(r));

  const known = results.filter((r) => r.verdict === 'FAIL' && knownEjectionSymptom(r));
  if (known.length > 0) {
    t.comment(`${manifest}: ${known.length} FAIL from the open core bug "client-caused ejection" (see test/corpus/verdicts.ts): ${known.map((r) => r.id).join(', ')}`);
  }
  const fails = results.filter((r) => r.verdict === 'FAIL' && !knownEjectionSymptom(r));
  t.same(fails.map(line), [], `${manifest}: no FAIL`);
  const decided = recordedDecisions();
  const undecided = results
    .filter((r) => (r.verdict === 'WARN' || r.verdict === 'INFO') && decided.get(r.id) !== r.verdict)
    .map(line);
  t.same(undecided, [], `${manifest}: every WARN and INFO is a decision recorded in DECISIONS.md`);
}
