import t from 'tap';
import { inBatches, loadManifest, runResponseCase, type ResponseCase } from './harness.js';
import { assertVerdicts } from './verdicts.js';

// The 11 misbehaving-origin responses: our Set-Cookie must land on the first
// final response's head (never a 1xx, never inside a body), backend cookies
// survive, and bodies and the responses after them arrive intact.
t.test('origin response cases through stream mode', async (t) => {
  const cases = loadManifest<ResponseCase>('responses.json');
  const t0 = Date.now();
  const results = await inBatches(cases, 6, (c) => runResponseCase(c, cases));
  assertVerdicts(t, 'responses.json', results, Date.now() - t0);
});
