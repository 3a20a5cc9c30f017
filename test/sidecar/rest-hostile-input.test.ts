import net from 'node:net';
import t from 'tap';
import { backend, get } from '../helpers/net.js';
import { api, config, startBinary, tmpDir, writeJson } from './helpers.js';

/** Sends `head` then `bodySize` bytes in chunks; resolves with whatever came back before the server closed. */
function upload(port: number, head: string, bodySize: number): Promise<{ reply: string; sent: number }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let reply = '';
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const done = (): void => { s.destroy(); resolve({ reply, sent }); };
    s.on('data', (d: Buffer) => { reply += d.toString('latin1'); });
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => {
      s.write(head);
      const pump = (): void => {
        while (sent < bodySize && !s.destroyed) {
          sent += chunk.length;
          if (!s.write(chunk)) {
            s.once('drain', pump);
            return;
          }
        }
        if (!s.destroyed) s.end();
      };
      pump();
    });
    setTimeout(done, 10_000).unref();
  });
}

t.test('paths, methods and oversized bodies', async (t) => {
  const v1 = await backend('v1');
  t.teardown(() => v1.close());
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port)), '--state', `${dir}/s.json`]);
  const port = sc.apiPort;
  const before = (await api(port, 'GET', '/configuration/cluster')).text;

  for (const path of ['/configuration/clusterX', '/x/configuration/cluster', '/configuration', '/configuration/cluster/v1/extra', '/index.html', '/configuration//cluster']) {
    const r = await api(port, 'GET', path);
    t.equal(r.status, 404, `${path}: 404 (paths match exactly, not by substring)`);
    t.equal(r.json?.error?.code, 'UPS_ERR_NOT_FOUND', `${path}: JSON error`);
  }
  t.equal((await api(port, 'GET', '/configuration/cluster?x=1')).status, 200, 'a query string does not change the path');

  const cases: Array<[string, string, string]> = [
    ['POST', '/configuration/cluster', 'GET, HEAD, PUT'],
    ['DELETE', '/configuration/cluster', 'GET, HEAD, PUT'],
    ['PUT', '/configuration/cluster/v1', 'GET, HEAD, PATCH, DELETE'],
    ['POST', '/status', 'GET, HEAD'],
    ['PUT', '/metrics', 'GET, HEAD'],
    ['DELETE', '/healthz', 'GET, HEAD'],
  ];
  for (const [method, path, allow] of cases) {
    const r = await api(port, method, path, method === 'GET' ? undefined : '{}');
    t.equal(r.status, 405, `${method} ${path}: 405`);
    t.equal(r.headers['allow'], allow, `${method} ${path}: Allow lists what works`);
    t.equal(r.json?.error?.field, 'method');
  }

  // 5 MB with a Content-Length: refused from the header, the upload is read and dropped.
  const big = await upload(port, `PUT /configuration/cluster HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${5 * 1024 * 1024}\r\n\r\n`, 5 * 1024 * 1024);
  t.match(big.reply, /^HTTP\/1\.1 413 /, '5 MB body with Content-Length: 413');
  t.match(big.reply, /"code":"UPS_ERR_BODY_TOO_LARGE"/);
  // 5 MB chunked: no length up front, cut off at the limit while reading.
  const chunkedHead = 'PUT /configuration/cluster HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
  const chunked = await new Promise<string>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let reply = '';
    s.on('data', (d: Buffer) => { reply += d.toString('latin1'); });
    s.on('error', () => resolve(reply));
    s.on('close', () => resolve(reply));
    s.on('connect', async () => {
      s.write(chunkedHead);
      const piece = Buffer.alloc(256 * 1024, 'b');
      for (let i = 0; i < 20 && !s.destroyed && reply === ''; i++) {
        s.write(`${piece.length.toString(16)}\r\n`);
        s.write(piece);
        s.write('\r\n');
        await new Promise((r) => setTimeout(r, 5));
      }
      if (!s.destroyed) s.end('0\r\n\r\n');
    });
  });
  t.match(chunked, /^HTTP\/1\.1 413 /, '5 MB chunked body: 413');

  t.equal((await api(port, 'GET', '/configuration/cluster')).text, before, 'state unchanged');
  t.equal((await get(sc.proxyPort)).body, 'v1', 'the proxy still serves');
  t.equal((await api(port, 'GET', '/healthz')).status, 200, 'the API still answers');
  t.equal(sc.child.exitCode, null, 'never crashed');

  // A body just under the limit is read in full and judged on its content.
  const padded = JSON.stringify({ cluster: { version: '2', servers: [{ hostname: '127.0.0.1', port: v1.port }], upgradeTransition: { mode: 'INSTANT' } } }).padEnd(1024 * 1024 - 10, ' ');
  const ok = await api(port, 'PUT', '/configuration/cluster', padded);
  t.equal(ok.status, 202, 'a body below 1 MiB is accepted');
});

t.test('PATCH changes the transition and the share, and validates like PUT', async (t) => {
  const v1 = await backend('v1');
  const v2 = await backend('v2');
  t.teardown(async () => { await v1.close(); await v2.close(); });
  const dir = tmpDir(t);
  const sc = await startBinary(t, ['--config', writeJson(dir, 'c.json', config(v1.port, {
    clusters: [{ uuid: 'v2', version: '2.0.0', servers: [{ hostname: '127.0.0.1', port: v2.port }] }],
  })), '--no-state']);
  const port = sc.apiPort;

  const g = await api(port, 'PATCH', '/configuration/cluster/v2', { cluster: { upgradeTransition: { mode: 'GRADUAL', percentageTransitionPerRequest: 0.001 }, percentage: 0 } });
  t.equal(g.status, 200);
  t.equal(g.json.cluster.upgradeTransition.mode, 'GRADUAL');
  for (let i = 0; i < 5; i++) t.equal((await get(sc.proxyPort)).body, 'v1', 'share 0: every new client stays on v1');
  const full = await api(port, 'PATCH', '/configuration/cluster/v2', { cluster: { percentage: 100 } });
  t.equal(full.status, 200);
  t.equal((await get(sc.proxyPort)).body, 'v2', 'share 100: new clients go to v2');
  const st = await api(port, 'GET', '/status');
  t.equal(st.json.versions[0].percentage, 100, 'status shows the share');

  const before = (await api(port, 'GET', '/configuration/cluster')).text;
  const bad: Array<[object, string]> = [
    [{ cluster: { percentage: 101 } }, 'cluster.percentage'],
    [{ cluster: { upgradeTransition: { mode: 'GRADUAL', sessionTimeout: 5 } } }, 'cluster.upgradeTransition.sessionTimeout'],
    [{ cluster: { upgradeTransition: { sessionTimeout: 5, initialPercentage: 5 } } }, 'cluster.upgradeTransition.initialPercentage'],
    [{ cluster: { servers: [] } }, 'cluster.servers'],
    [{ cluster: { uuid: 'other' } }, 'cluster.uuid'],
    [{ cluster: { nope: 1 } }, 'cluster.nope'],
    [{ cluster: [] }, 'cluster'],
  ];
  for (const [body, field] of bad) {
    const r = await api(port, 'PATCH', '/configuration/cluster/v2', body);
    t.equal(r.status, 400, `PATCH ${JSON.stringify(body)}: 400`);
    t.equal(r.json?.error?.field, field, `names ${field}`);
  }
  t.equal((await api(port, 'GET', '/configuration/cluster')).text, before, 'rejected PATCHes changed nothing');
});
