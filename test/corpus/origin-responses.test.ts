import t from 'tap';
import { inBatches, loadManifest, runResponseCase, type ResponseCase } from './harness.js';
import { MODES, assertVerdicts, modeOptions } from './verdicts.js';

// The 11 misbehaving-origin responses: our Set-Cookie must land on the first
// final response's head (never a 1xx, never inside a body), backend cookies
// survive, HEAD/204/304 bodies are ignored, and close-delimited bodies and
// the responses after them arrive intact.
for (const mode of MODES) {
  t.test(`origin response cases through ${mode} mode`, async (t) => {
    const cases = loadManifest<ResponseCase>('responses.json');
    const t0 = Date.now();
    const results = await inBatches(cases, 6, (c) => runResponseCase(c, cases, modeOptions(mode)));
    assertVerdicts(t, mode, 'responses.json', results, Date.now() - t0);
  });
}
