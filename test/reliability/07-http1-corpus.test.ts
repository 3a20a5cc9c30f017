import t from 'tap';
import { counts, inBatches, loadManifest, runRequestCase, runResponseCase, type CaseResult, type RequestCase, type ResponseCase } from '../corpus/harness.js';
import { assertVerdicts } from '../corpus/verdicts.js';
import { figure } from './lib.js';

// Scenario 7: the shared HTTP/1.1 corpus (test/fixtures/http1): curated
// cases, the three bulk manifests and the misbehaving-origin responses, with
// the same runner and the same assertions as `npm test` (0 FAIL, no case
// ejects a server, every WARN/INFO a recorded decision), here to put its
// counts in the reliability table (stream mode, as the table was first measured).
const all: Array<{ manifest: string; results: CaseResult[] }> = [];

for (const [manifest, idle] of [['cases.json', 1000], ['bulk/desync-guardian.json', 300], ['bulk/llhttp.json', 300], ['bulk/http11probe.json', 300]] as const) {
  await t.test(manifest, async (t) => {
    const t0 = Date.now();
    const results = await inBatches(loadManifest<RequestCase>(manifest), 6, (c) => runRequestCase(c, { idle, cap: 6000 }, { mode: 'stream' }));
    assertVerdicts(t, 'stream', manifest, results, Date.now() - t0);
    all.push({ manifest, results });
  });
}
await t.test('responses.json', async (t) => {
  const cases = loadManifest<ResponseCase>('responses.json');
  const t0 = Date.now();
  const results = await inBatches(cases, 6, (c) => runResponseCase(c, cases, { mode: 'stream' }));
  assertVerdicts(t, 'stream', 'responses.json', results, Date.now() - t0);
  all.push({ manifest: 'responses.json', results });
});

const n = counts(all.flatMap((x) => x.results));
figure(t, {
  scenario: '7 HTTP/1.1 corpus',
  inputs: `${n.PASS + n.FAIL + n.WARN + n.INFO} cases: ${all.map((x) => { const c = counts(x.results); return `${x.manifest.replace(/^bulk\//, '').replace(/\.json$/, '')} ${c.PASS}/${c.FAIL}/${c.WARN}/${c.INFO}`; }).join(', ')} (pass/fail/warn/info)`,
  faults: `${n.FAIL} FAIL`,
  lost: `${all.flatMap((x) => x.results).filter((r) => r.ejected.length > 0).length} cases ejected a server`,
});
