import net from 'node:net';
import t from 'tap';
import { api } from '../sidecar/helpers.js';
import { containersOf, engineOrExplain, ensureAppImages, fetchText } from './engine.js';
import { app, body, sidecarWithV1, until, waitLaunch } from './sidecar-env.js';

// A SESSION upgrade between container versions on a real engine, with
// `retire: "when-drained"` on v1: v1 stays while a session that began on it
// is active and while a long download from it is open, and is removed (its
// container too) only once that session idled out and that download closed.

/** Starts a GET of /big that reads nothing: the connection stays open (TCP back-pressure) until destroyed. */
function slowDownload(port: number, cookie: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', reject);
    s.write(`GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\n\r\n`);
    s.once('data', (d: Buffer) => {
      s.pause();
      if (d.toString('latin1').startsWith('HTTP/1.1 200') || d.toString('latin1').startsWith('HTTP/1.0 200')) resolve(s);
      else reject(new Error(`no download: ${d.toString('latin1').slice(0, 60)}`));
    });
  });
}

const docker = await engineOrExplain(t);
if (docker !== undefined) {
  await ensureAppImages();

  t.test('SESSION upgrade: v1 is retired after its last session idled out and its last connection closed, its container removed', async (t) => {
    const { sc, sidecarId } = await sidecarWithV1(t, docker!, 'retire', { retire: 'when-drained' });
    const session = 'dynsoftup=v1';
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort, '/', { cookie: session })), 'upshift-test-app version 1');

    const put = await api(sc.apiPort, 'PUT', '/configuration/cluster', { cluster: { uuid: 'v2', version: '2.0.0', containers: app('2'), upgradeTransition: { mode: 'SESSION', sessionTimeout: 2 } } });
    t.equal(put.status, 202);
    t.equal((await waitLaunch(sc, 'v2', 'ready')).state, 'ready');
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort)), 'upshift-test-app version 2', 'new clients go to v2');
    const download = await slowDownload(sc.proxyPort, session);
    t.teardown(() => { download.destroy(); });

    // The v1 session stays active for 4 s (twice its lifetime): v1 must stay.
    for (let i = 0; i < 8; i++) {
      t.equal(body(await fetchText('127.0.0.1', sc.proxyPort, '/', { cookie: session })), 'upshift-test-app version 1', 'the session that began on v1 stays there');
      await new Promise((r) => setTimeout(r, 500));
    }
    // Now idle for longer than its lifetime; only the download holds v1.
    await new Promise((r) => setTimeout(r, 3000));
    const status = await api(sc.apiPort, 'GET', '/status');
    const v1 = (status.json?.versions as Array<{ uuid: string; retire?: { open: number } }>).find((v) => v.uuid === 'v1');
    t.match(v1?.retire, { open: 1 }, 'status: v1 retiring, one connection left');
    t.equal((await containersOf(docker!, sidecarId, 'v1')).length, 1, 'v1\'s container runs while the download is open');

    download.destroy();
    t.ok(await until(async () => (await api(sc.apiPort, 'GET', '/configuration/cluster/v1')).status === 404, 10_000), 'v1 is removed once the download closed');
    t.ok(await until(async () => (await containersOf(docker!, sidecarId, 'v1')).length === 0, 20_000), 'and its container is gone');
    t.equal(body(await fetchText('127.0.0.1', sc.proxyPort, '/', { cookie: session })), 'upshift-test-app version 2', 'a late v1 cookie is served by v2');
    const logs = sc.logs.join('\n');
    t.match(logs, /version 1\.0\.0 drained/, 'the log says it drained');
    t.match(logs, /"event":"version:remove"[^\n]*"reason":"retired"/, 'and that it was removed as retired');
    const events = (await api(sc.apiPort, 'GET', '/status')).json?.events as Array<{ type: string; text: string }>;
    t.ok(events.some((e) => e.type === 'version:drained'), 'the status\'s recent events show version:drained');
    // The state file forgot it: a restart does not bring it back.
    const listed = await api(sc.apiPort, 'GET', '/configuration/cluster');
    t.same((listed.json as unknown as Array<{ cluster: { uuid: string } }>).map((c) => c.cluster.uuid), ['v2']);
  });
}
