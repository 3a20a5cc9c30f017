import net from 'node:net';
import t from 'tap';
import type { Proxy, ProxyEvents } from '../../src/core/index.js';
import { get, sleep, until } from '../helpers/net.js';
import { at, backends, proxyFor } from '../helpers/proxy.js';

import { MODES, modeOptions, modesExcept } from '../helpers/modes.js';

/** RFC 6455's sample key and its accept value (the uws engine's relay checks that they match). */
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** A WebSocket-style upgrade through the proxy: resolves with the open socket once the 101 arrived. */
function upgrade(port: number, cookie: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', reject);
    s.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`);
    let got = '';
    s.on('data', function onData(d: Buffer) {
      got += d.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      s.off('data', onData);
      if (got.startsWith('HTTP/1.1 101')) resolve(s);
      else reject(new Error(`no upgrade: ${got.slice(0, 60)}`));
    });
  });
}

function record(proxy: Proxy): { drained: Array<ProxyEvents['version:drained']>; removed: Array<ProxyEvents['version:remove']> } {
  const out = { drained: [] as Array<ProxyEvents['version:drained']>, removed: [] as Array<ProxyEvents['version:remove']> };
  proxy.events.on('version:drained', (p: ProxyEvents['version:drained']) => out.drained.push(p));
  proxy.events.on('version:remove', (p: ProxyEvents['version:remove']) => out.removed.push(p));
  return out;
}

for (const mode of MODES) {
  t.test(`${mode}: an old version with retire "when-drained" goes once its last session idled out and its last WebSocket closed`, async (t) => {
    const [b1, b2] = await backends(t, ['v1', 'v2']);
    // Both backends accept an upgrade and keep the tunnel open until the client closes it.
    for (const b of [b1!, b2!]) {
      b.server.on('upgrade', (_req, sock: net.Socket) => {
        sock.on('error', () => {});
        sock.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${ACCEPT}\r\nX-Backend: ${b.name}\r\n\r\n`);
        sock.on('data', (d) => sock.write(d));
        // As a WebSocket server does: the client's close ends the tunnel.
        sock.on('end', () => sock.end());
      });
    }
    const proxy = await proxyFor(t, { ...modeOptions(mode), retire: 'when-drained', versions: [{ uuid: 'v1', version: '1.0', servers: at(b1!) }] });
    const seen = record(proxy);
    const port = proxy.address.port;
    t.equal((await get(port)).body, 'v1');

    // The upgrade: new clients go to 2.0; sessions naming 1.0 stay there for sessionTimeout (1 s) after their last answer.
    proxy.addVersion({ uuid: 'v2', version: '2.0', servers: at(b2!), upgradeTransition: { mode: 'SESSION', sessionTimeout: 1 } });
    const ws = await upgrade(port, 'dynsoftup=v1');
    t.equal((await get(port)).body, 'v2', 'a new client gets the newest');
    // An active session on 1.0 for 2.5 s: longer than the lifetime, but it slides with every answer.
    for (let i = 0; i < 5; i++) {
      t.equal((await get(port, { cookie: 'dynsoftup=v1' })).body, 'v1', 'the session that began on 1.0 stays there');
      await sleep(500);
    }
    const st = proxy.status().versions.find((v) => v.uuid === 'v1');
    t.ok(st?.retire !== undefined, 'status shows the taken-over version retiring');
    t.match(st?.retire, { open: 1 }, 'with the WebSocket still open on it');
    // The session is now idle for longer than its lifetime, but the WebSocket is open.
    await sleep(1600);
    t.same(seen.drained, [], 'not retired while its WebSocket is open');
    t.ok(proxy.getVersion('v1') !== undefined, 'still listed');

    ws.destroy();
    t.ok(await until(() => seen.removed.length > 0, 4000), 'removed once the WebSocket closed');
    t.match(seen.drained, [{ uuid: 'v1', version: '1.0', reason: 'drained', open: 0 }], 'version:drained, reason drained');
    t.match(seen.removed, [{ uuid: 'v1', reason: 'retired' }], 'then version:remove, reason retired');
    t.equal(proxy.getVersion('v1'), undefined);
    t.equal((await get(port, { cookie: 'dynsoftup=v1' })).body, 'v2', 'a late holder of the old cookie is served by the newest');
  });

  if (modesExcept('connections').includes(mode)) t.test(`${mode}: retire.maxWait removes a version that still holds a connection`, async (t) => {
    const [b1, b2] = await backends(t, ['v1', 'v2']);
    b1!.server.on('upgrade', (_req, sock: net.Socket) => {
      sock.on('error', () => {});
      sock.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    });
    const proxy = await proxyFor(t, { ...modeOptions(mode), versions: [{ uuid: 'v1', version: '1.0', servers: at(b1!), retire: { maxWait: 1 } }] });
    const seen = record(proxy);
    const ws = await upgrade(proxy.address.port, 'dynsoftup=v1');
    t.teardown(() => { ws.destroy(); });
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    proxy.addVersion({ uuid: 'v2', version: '2.0', servers: at(b2!), upgradeTransition: { mode: 'SESSION', sessionTimeout: 3600 } });
    t.ok(await until(() => seen.removed.length > 0, 4000), 'removed after maxWait');
    t.match(seen.drained, [{ uuid: 'v1', reason: 'max-wait', open: 1 }], 'version:drained, reason max-wait, one connection left');
    t.ok(seen.drained[0]!.waitedMs >= 1000, `waited maxWait (${seen.drained[0]!.waitedMs} ms)`);
    await closed;
    t.pass('its last connection is closed after the removal\'s drain');
  });

  t.test(`${mode}: no retirement without a takeover, or without retire`, async (t) => {
    const [b1, b2] = await backends(t, ['v1', 'v2']);
    const proxy = await proxyFor(t, {
      ...modeOptions(mode),
      health: { maxFails: 1 },
      versions: [
        { uuid: 'v0', version: '0.9', servers: at(b1!) },
        { uuid: 'v1', version: '1.0', servers: at(b1!), retire: 'when-drained' },
      ],
    });
    const seen = record(proxy);
    // The newest is unreachable: 1.0 keeps serving as the fallback and is never taken over.
    const dead = await new Promise<number>((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
    proxy.addVersion({ uuid: 'v2', version: '2.0', servers: at(dead) });
    for (let i = 0; i < 3; i++) t.equal((await get(proxy.address.port)).body, 'v1', 'the fallback serves');
    await sleep(1500);
    t.same(seen.drained, [], 'the version the newest falls back to is not retired');
    // A working newest takes over; 0.9 has no retire (the default "never") and stays.
    proxy.updateVersion('v2', { servers: at(b2!) });
    t.equal((await get(proxy.address.port)).body, 'v2');
    t.ok(await until(() => seen.removed.length > 0, 4000), '1.0 retires once 2.0 serves');
    t.match(seen.removed, [{ uuid: 'v1', reason: 'retired' }]);
    await sleep(1200);
    t.equal(seen.removed.length, 1, '0.9, without retire, stays');
    t.ok(proxy.getVersion('v0') !== undefined);
  });
}
