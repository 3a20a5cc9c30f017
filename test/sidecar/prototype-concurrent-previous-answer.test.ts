import t from 'tap';
import { backend, get } from '../helpers/net.js';
import { api, startBinary, tmpDir, writeJson } from './helpers.js';

// The thesis's CONCURRENT rule through the binary, in both connection modes:
// when the newest answers 5xx, the client gets the previous version's answer,
// whatever its status.
const MODES = ['stream', 'http'] as const;

for (const mode of MODES) {
  t.test(mode, async (t) => {
    const fail = { v1: false };
    const v1 = await backend('v1', (_req, res) => { res.statusCode = fail.v1 ? 503 : 200; res.end(fail.v1 ? 'v1 broken' : 'v1'); });
    const v2 = await backend('v2', (_req, res) => { res.statusCode = 500; res.end('v2 broken'); });
    t.teardown(async () => { await v1.close(); await v2.close(); });
    const dir = tmpDir(t);
    const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', {
      proxy: { port: 0, host: '127.0.0.1', mode },
      configService: { port: 0 },
      cluster: { uuid: 'v1', version: '1.0', servers: [{ hostname: '127.0.0.1', port: v1.port }] },
    }), '--no-state']);
    // The prototype's body: concurrentVersions without a mode is CONCURRENT.
    const put = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0', servers: [{ hostname: '127.0.0.1', port: v2.port }], upgradeTransition: { concurrentVersions: 2 } } });
    t.equal(put.status, 202, put.text);
    t.equal((await api(sc.apiPort, 'GET', '/configuration/cluster/v2')).json.cluster.upgradeTransition.mode, 'CONCURRENT');

    const ok = await get(sc.proxyPort);
    t.same([ok.status, ok.body], [200, 'v1'], 'the newest answered 500: the previous version\'s 200');
    fail.v1 = true;
    const both = await get(sc.proxyPort);
    t.same([both.status, both.body], [503, 'v1 broken'], 'both answered 5xx: the previous version\'s 5xx');
    t.equal(v2.requests.length, 2, 'the newest got every request');
  });
}
