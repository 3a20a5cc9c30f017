import http from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { createProxy } from '../dist/core/index.js';
async function wsBackend(name) {
  const server = http.createServer((_q, r) => r.end(name));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => { ws.send(`hello from ${name}`); ws.on('message', (d, b) => ws.send(d, { binary: b })); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, close: () => { for (const c of wss.clients) c.terminate(); wss.close(); server.close(); } };
}
let bad = 0;
let junk = [];
for (let i = 0; i < Number(process.argv[2] ?? 40); i++) {
  for (let k = 0; k < 64; k++) junk.push(Buffer.alloc(1024 * 1024, k)); junk = junk.slice(-16);
  for (let k = 0; k < 20000; k++) junk.push({ a: k, b: [k] }); junk = junk.slice(-16);
  const v1 = await wsBackend('v1'), v2 = await wsBackend('v2');
  const proxy = await createProxy({ host: '127.0.0.1', port: 0, mode: 'http', engine: 'uws', versions: [
    { uuid: 'old', version: '1.0', servers: [{ hostname: '127.0.0.1', port: v1.port }] },
    { uuid: 'new', version: '2.0', servers: [{ hostname: '127.0.0.1', port: v2.port }], upgradeTransition: { mode: 'SESSION', sessionTimeout: 120 } }] });
  const ev = [];
  const ws = new WebSocket(`ws://127.0.0.1:${proxy.address.port}/ws`, { headers: { cookie: 'dynsoftup=old' } });
  const res = await new Promise((r) => {
    const to = setTimeout(() => r('TIMEOUT'), 3000);
    ws.on('upgrade', (m) => ev.push('upgrade ' + m.statusCode));
    ws.on('open', () => ev.push('open'));
    ws.on('unexpected-response', (_q, m) => { ev.push('unexpected ' + m.statusCode); });
    ws.on('error', (e) => ev.push('error ' + e.message));
    ws.on('close', (c) => { ev.push('close ' + c); clearTimeout(to); r('CLOSED'); });
    ws.on('message', (d) => { ev.push('msg ' + d); clearTimeout(to); r('OK'); });
  });
  if (res !== 'OK') { bad++; console.log(i, res, ev.join(' | ')); }
  ws.terminate();
  await proxy.close({ drainTimeout: 0 }); v1.close(); v2.close();
}
console.log('bad', bad);
process.exit(0);
