import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny app version for the demo: answers every request with its name.
 * `node app.js <name> [port]`; prints one JSON line {"name","port","pid"}
 * on stdout once it listens, so its parent knows where it is.
 */
const name = process.argv[2] ?? 'app';
const port = Number(process.argv[3] ?? 0);
const server = http.createServer((req, res) => {
  req.resume();
  const body = `hello from ${name}\n`;
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'X-App-Version': name });
  res.end(body);
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ name, port: (server.address() as AddressInfo).port, pid: process.pid }) + '\n');
});
const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Started by the demo with an IPC channel: when the demo dies, however it dies, so does the app.
if (process.send !== undefined) process.on('disconnect', stop);
