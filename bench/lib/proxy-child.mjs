// One Node proxy per process, so the harness can read its CPU time and RSS
// from /proc/<pid> and pin it to a core of its own.
//
//   node proxy-child.mjs <kind> <backendPort> [distDir]
//
// Prints `PORT <n>` once listening. SIGUSR2 runs a GC (when started with
// --expose-gc) so memory readings do not depend on when the last one ran.
// Started with an IPC channel (bench/idle-memory.mjs), it also answers
// `{ op: 'usage' }` with its heap and RSS after a full GC, and
// `{ op: 'snapshot', file }` by writing a heap snapshot there.
import fs from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import v8 from 'node:v8';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [kind, backendPortArg, distDir] = process.argv.slice(2);
const backendPort = Number(backendPortArg);
const HOST = '127.0.0.1';

process.on('SIGUSR2', () => { if (typeof globalThis.gc === 'function') globalThis.gc(); });
process.on('SIGTERM', () => process.exit(0));
process.on('message', (m) => {
  if (m.op === 'usage') {
    globalThis.gc?.();
    globalThis.gc?.();
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
    const u = process.memoryUsage();
    process.send({ id: m.id, rss: rssKiB * 1024, heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers });
  } else if (m.op === 'snapshot') {
    globalThis.gc?.();
    process.send({ id: m.id, file: v8.writeHeapSnapshot(m.file) });
  }
});
process.on('disconnect', () => process.exit(0));

function ready(port) {
  process.stdout.write(`PORT ${port}\n`);
}

async function upshift(mode = 'stream', concurrent = undefined, engine = undefined) {
  const dist = distDir ?? path.resolve(import.meta.dirname, '../../dist');
  const { createProxy } = await import(pathToFileURL(path.join(dist, 'core/index.js')).href);
  const servers = [{ hostname: HOST, port: backendPort }];
  // CONCURRENT: two versions on the same backend, every request to both, their answers compared or not.
  const versions = concurrent === undefined
    ? [{ version: '1.0', servers }]
    : [{ version: '1.0', servers }, { version: '2.0', servers, upgradeTransition: { mode: 'CONCURRENT' }, compare: { enabled: concurrent.compare } }];
  const proxy = await createProxy({ host: HOST, port: 0, mode, versions, ...(engine === undefined ? {} : { engine }) });
  ready(proxy.address.port);
}

// The ceiling of any Node L4 proxy: accept, connect, pipe both ways.
function pipe() {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const up = net.connect({ host: HOST, port: backendPort, allowHalfOpen: true, noDelay: true });
    client.pipe(up);
    up.pipe(client);
    const kill = () => { client.destroy(); up.destroy(); };
    client.on('error', kill);
    up.on('error', kill);
    client.on('close', () => up.destroy());
    up.on('close', () => { if (!client.writableEnded) client.end(); });
  });
  server.listen(0, HOST, () => ready(server.address().port));
}

async function httpProxy() {
  const { default: httpProxyLib } = await import('http-proxy');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  const proxy = httpProxyLib.createProxyServer({ target: `http://${HOST}:${backendPort}`, agent });
  proxy.on('error', (_err, _req, res) => {
    if (res && 'writeHead' in res && !res.headersSent) res.writeHead(502);
    res?.end?.();
  });
  const server = http.createServer((req, res) => proxy.web(req, res));
  server.keepAliveTimeout = 300_000;
  server.listen(0, HOST, () => ready(server.address().port));
}

async function fastifyReplyFrom() {
  const { default: Fastify } = await import('fastify');
  const { default: replyFrom } = await import('@fastify/reply-from');
  const app = Fastify({ logger: false, keepAliveTimeout: 300_000, bodyLimit: 8 * 1024 * 1024 });
  // Leave request bodies unread so reply-from streams them upstream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  await app.register(replyFrom, { base: `http://${HOST}:${backendPort}/` });
  app.all('/*', (req, reply) => reply.from(req.url));
  await app.listen({ host: HOST, port: 0 });
  ready(app.server.address().port);
}

const kinds = {
  upshift: () => upshift('stream'), 'upshift-http': () => upshift('http'), 'upshift-uws': () => upshift('http', undefined, 'uws'),
  'upshift-concurrent': () => upshift('stream', { compare: false }), 'upshift-concurrent-compare': () => upshift('stream', { compare: true }),
  'upshift-http-concurrent': () => upshift('http', { compare: false }), 'upshift-http-concurrent-compare': () => upshift('http', { compare: true }), pipe, 'http-proxy': httpProxy, fastify: fastifyReplyFrom };
const start = kinds[kind];
if (start === undefined) {
  console.error(`unknown proxy kind ${kind}`);
  process.exit(2);
}
await start();
