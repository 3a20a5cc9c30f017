import t from 'tap';
import { inBatches, loadManifest, runRequestCase, type RequestCase } from './harness.js';
import { MODES, assertVerdicts, modeOptions } from './verdicts.js';

// The 39 curated request streams: framing, the first-head peek, cookies,
// pipelining and Upgrade. A full idle second after each, as the cases were
// calibrated: a proxy that answers late must still be seen answering.
for (const mode of MODES) {
  t.test(`curated request cases through ${mode} mode`, async (t) => {
    const cases = loadManifest<RequestCase>('cases.json');
    const t0 = Date.now();
    const results = await inBatches(cases, 6, (c) => runRequestCase(c, { idle: 1000, cap: 6000 }, modeOptions(mode)));
    assertVerdicts(t, mode, 'cases.json', results, Date.now() - t0);
  });
}
