import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { counts, line, type CaseResult, type Verdict } from '../../corpus/harness.js';

/** The runner's options for http mode: everything else as the corpus expects it. */
export const HTTP_MODE = { mode: 'http' } as const;

/** `| case id | VERDICT | category | title |` rows of corpus-decisions.md. */
function decisions(): Map<string, Verdict> {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'corpus-decisions.md');
  const out = new Map<string, Verdict>();
  for (const m of fs.readFileSync(file, 'utf8').matchAll(/^\| `([^`]+)` \| (WARN|INFO) \|/gm)) out.set(m[1]!, m[2] as Verdict);
  return out;
}

/** No FAIL at all, and every WARN and INFO is the decision recorded for http mode. */
export function assertHttpModeVerdicts(t: Test, manifest: string, results: readonly CaseResult[], ms: number): void {
  const n = counts(results);
  t.comment(`${manifest} in http mode: ${results.length} cases in ${(ms / 1000).toFixed(1)} s: ${n.PASS} pass, ${n.FAIL} fail, ${n.WARN} warn, ${n.INFO} info`);
  if (process.env['CORPUS_VERBOSE']) for (const r of results) t.comment(line(r));
  t.same(results.filter((r) => r.verdict === 'FAIL').map(line), [], `${manifest}: no FAIL`);
  const decided = decisions();
  t.same(results.filter((r) => (r.verdict === 'WARN' || r.verdict === 'INFO') && decided.get(r.id) !== r.verdict).map(line), [],
    `${manifest}: every WARN and INFO is a decision recorded in corpus-decisions.md`);
  t.same(results.filter((r) => r.ejected.length > 0).map(line), [], `${manifest}: no client request got a server ejected`);
}
