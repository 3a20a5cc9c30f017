import t from 'tap';
import { inBatches, loadManifest, runRequestCase, type RequestCase } from '../../corpus/harness.js';
import { HTTP_MODE, assertHttpModeVerdicts } from './_corpus.js';

// The 366 converted third-party request streams, as stream mode runs them.
for (const manifest of ['bulk/desync-guardian.json', 'bulk/llhttp.json', 'bulk/http11probe.json']) {
  t.test(`${manifest} through http mode`, async (t) => {
    const cases = loadManifest<RequestCase>(manifest);
    const t0 = Date.now();
    const results = await inBatches(cases, 8, (c) => runRequestCase(c, { idle: 300, cap: 6000 }, HTTP_MODE));
    assertHttpModeVerdicts(t, manifest, results, Date.now() - t0);
  });
}
