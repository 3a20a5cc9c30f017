import t from 'tap';
import { inBatches, loadManifest, runResponseCase, type ResponseCase } from '../../corpus/harness.js';
import { HTTP_MODE, assertHttpModeVerdicts } from './_corpus.js';

// Misbehaving-origin responses: cookies only on the final head, never in a
// body; HEAD/204/304 bodies ignored; close-delimited bodies; huge heads.
t.test('origin response cases through http mode', async (t) => {
  const cases = loadManifest<ResponseCase>('responses.json');
  const t0 = Date.now();
  const results = await inBatches(cases, 6, (c) => runResponseCase(c, cases, HTTP_MODE));
  assertHttpModeVerdicts(t, 'responses.json', results, Date.now() - t0);
});
