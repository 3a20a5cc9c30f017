// upshift with two versions on one backend, the newest judged or not, for
// bench/judge-cost.mjs. Two versions, because judgement only works where a
// newest has a previous version to be compared with.
//
//   node judge-child.mjs <distDir> <backendPort> <http|stream> <on|off>
//
// Prints `PORT <n>` once listening.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [distDir, backendPort, mode, judge] = process.argv.slice(2);
const { createProxy } = await import(pathToFileURL(path.join(distDir, 'core/index.js')).href);
const server = { hostname: '127.0.0.1', port: Number(backendPort) };
const proxy = await createProxy({
  host: '127.0.0.1',
  port: 0,
  mode,
  judge: { enabled: judge === 'on' },
  versions: [
    { uuid: 'v1', version: '1.0', servers: [server] },
    { uuid: 'v2', version: '2.0', servers: [server] },
  ],
});
process.on('SIGTERM', () => { void proxy.close().then(() => process.exit(0)); });
process.stdout.write(`PORT ${proxy.address.port}\n`);
