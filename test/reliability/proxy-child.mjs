// upshift (the built library) in its own process, so that its open file
// descriptors and memory can be measured without the load generator's.
// Options come in UPSHIFT_OPTIONS (JSON; lib.ts's startProxy gives
// mode "stream" unless a scenario says otherwise); commands arrive over
// IPC: add, update, remove, status, usage (after a full GC), and replies
// carry the same id. Events that matter to the scenarios are counted.
import { readdirSync, readFileSync } from 'node:fs';
import { createProxy } from '../../dist/core/index.js';

const proxy = await createProxy(JSON.parse(process.env.UPSHIFT_OPTIONS ?? '{}'));
const events = { eject: 0, readmit: 0, failure: 0, fallback: 0, rollback: 0 };
proxy.events.on('upstream:eject', () => { events.eject++; });
proxy.events.on('upstream:readmit', () => { events.readmit++; });
proxy.events.on('upstream:failure', () => { events.failure++; });
proxy.events.on('fallback', () => { events.fallback++; });
proxy.events.on('rollback', () => { events.rollback++; });

function usage() {
  globalThis.gc?.();
  const status = readFileSync('/proc/self/status', 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { fds: readdirSync('/proc/self/fd').length, rss: rssKiB * 1024, heapUsed: process.memoryUsage().heapUsed, external: process.memoryUsage().external, connections: proxy.connections };
}

process.on('message', async (m) => {
  try {
    let result;
    switch (m.op) {
      case 'add': result = proxy.addVersion(m.version); break;
      case 'update': result = proxy.updateVersion(m.uuid, m.patch); break;
      case 'remove': result = await proxy.removeVersion(m.uuid, { drainTimeout: m.drainTimeout ?? 0 }); break;
      case 'status': result = proxy.status(); break;
      case 'usage': result = usage(); break;
      case 'events': result = { ...events }; break;
      default: throw new Error(`unknown op ${m.op}`);
    }
    process.send({ id: m.id, ok: true, result });
  } catch (err) {
    process.send({ id: m.id, ok: false, error: { code: err.code, message: err.message } });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, port: proxy.address.port });
