/**
 * What the corpus tests assert about a manifest's verdicts:
 * - no FAIL (a hang, a hidden request, a smuggled request, a broken victim,
 *   a misroute);
 * - no case makes the proxy eject a server: the origins never fail to
 *   accept a connection, so an ejection would be one client's request
 *   taking a version out of rotation for everyone (it did, until the core
 *   stopped counting failures that happen after the request was sent);
 * - every WARN and INFO is a decision recorded with that verdict for the
 *   mode (test/fixtures/http1/DECISIONS.md for stream mode,
 *   DECISIONS-http-mode.md for http mode, whose safety argument differs:
 *   upstream connections are shared): a case that starts warning without
 *   anyone having decided it is acceptable fails the test.
 *
 * The uws engine's decisions (DECISIONS-uws-engine.md) may also record a
 * FAIL, and only one that a limit of uWebSockets.js makes (it closes a
 * connection on which a request arrives while an earlier one waits for its
 * answer: pipelining, native-notes.md): it stays counted as FAIL.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { MODES, modeOptions, type ModeName } from '../helpers/modes.js';
import { CORPUS, counts, line, type CaseResult, type Verdict } from './harness.js';

export { MODES, modeOptions };
export type Mode = ModeName;

const DECISIONS: Record<Mode, string> = {
  stream: 'DECISIONS.md',
  http: 'DECISIONS-http-mode.md',
  'http+uws': 'DECISIONS-uws-engine.md',
};

/** `| case id | VERDICT | …` rows of the mode's decisions (FAIL only for the uws engine's pipelining, category P). */
export function recordedDecisions(mode: Mode): Map<string, Verdict> {
  const text = fs.readFileSync(path.join(CORPUS, DECISIONS[mode]), 'utf8');
  const out = new Map<string, Verdict>();
  for (const m of text.matchAll(/^\| `([^`]+)` \| (WARN|INFO|FAIL) \| (\S+) \|/gm)) {
    if (m[2] === 'FAIL' && (mode !== 'http+uws' || m[3] !== 'P')) continue;
    out.set(m[1]!, m[2] as Verdict);
  }
  return out;
}

export function assertVerdicts(t: Test, mode: Mode, manifest: string, results: readonly CaseResult[], ms: number): void {
  const n = counts(results);
  t.comment(`${manifest} in ${mode} mode: ${results.length} cases in ${(ms / 1000).toFixed(1)} s: ${n.PASS} pass, ${n.FAIL} fail, ${n.WARN} warn, ${n.INFO} info`);
  if (process.env['CORPUS_VERBOSE']) for (const r of results) t.comment(line(r));

  const decided = recordedDecisions(mode);
  const fails = results.filter((r) => r.verdict === 'FAIL' && decided.get(r.id) !== 'FAIL');
  t.same(fails.map(line), [], `${manifest}: no FAIL (but a recorded uWS limit)`);
  const ejecting = results.filter((r) => r.ejected.length > 0);
  t.same(ejecting.map(line), [], `${manifest}: no case made the proxy eject a server`);

  const undecided = results
    .filter((r) => (r.verdict === 'WARN' || r.verdict === 'INFO') && decided.get(r.id) !== r.verdict)
    .map(line);
  t.same(undecided, [], `${manifest}: every WARN and INFO is a decision recorded in ${DECISIONS[mode]}`);
}
