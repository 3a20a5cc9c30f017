import t from 'tap';
import { inBatches, loadManifest, runRequestCase, type RequestCase } from '../../corpus/harness.js';
import { HTTP_MODE, assertHttpModeVerdicts } from './_corpus.js';

// The curated request streams (framing, peek, cookies, pipelining, Upgrade),
// with a full idle second after each as they were calibrated.
t.test('curated request cases through http mode', async (t) => {
  const cases = loadManifest<RequestCase>('cases.json');
  const t0 = Date.now();
  const results = await inBatches(cases, 6, (c) => runRequestCase(c, { idle: 1000, cap: 6000 }, HTTP_MODE));
  assertHttpModeVerdicts(t, 'cases.json', results, Date.now() - t0);
});
