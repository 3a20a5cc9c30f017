import t from 'tap';
import { inBatches, loadManifest, runRequestCase, type RequestCase } from './harness.js';
import { MODES, assertVerdicts, modeOptions } from './verdicts.js';

// 366 third-party request streams (aws/http-desync-guardian, nodejs/llhttp,
// MDA2AV/Http11Probe). A shorter idle wait than the curated cases: none of
// these depends on a late answer, and 300 ms is still far above loopback
// latency on a busy machine.
for (const mode of MODES) {
  for (const manifest of ['bulk/desync-guardian.json', 'bulk/llhttp.json', 'bulk/http11probe.json']) {
    t.test(`${manifest} through ${mode} mode`, async (t) => {
      const cases = loadManifest<RequestCase>(manifest);
      const t0 = Date.now();
      const results = await inBatches(cases, 8, (c) => runRequestCase(c, { idle: 300, cap: 6000 }, modeOptions(mode)));
      assertVerdicts(t, mode, manifest, results, Date.now() - t0);
    });
  }
}
