import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import t from 'tap';
import { backend } from '../../helpers/net.js';
import { HTTP_MODES, modeOptions } from '../../helpers/modes.js';
import { sessionProxy } from './_helpers.js';

/** A backend in its own process, so it can be SIGKILLed: no FIN handshake, no goodbye. */
function childBackend(name: string): Promise<{ child: ChildProcess; port: number }> {
  const src = `const http = require('node:http');
    const s = http.createServer((req, res) => res.end(${JSON.stringify(name)}));
    s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));`;
  const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ child, port: Number(d.toString().trim()) }));
    child.once('error', reject);
  });
}

for (const m of HTTP_MODES) t.test(`${m}: SIGKILL of the newest version under keep-alive GET load: zero client-visible errors`, async (t) => {
  const v1 = await backend('v1');
  const v2 = await childBackend('v2');
  const proxy = await sessionProxy(v1.port, v2.port, modeOptions(m));
  t.teardown(async () => { v2.child.kill('SIGKILL'); await proxy.close({ drainTimeout: 0 }); await v1.close(); });
  const port = proxy.address.port;

  const agents = Array.from({ length: 8 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  t.teardown(() => { for (const a of agents) a.destroy(); });
  const counts: Record<string, number> = {};
  const errors: string[] = [];
  let killed = false;
  let afterKill: Record<string, number> = {};
  const one = (agent: http.Agent): Promise<void> => new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => {
        if (res.statusCode !== 200) errors.push(`status ${res.statusCode}: ${body}`);
        counts[body] = (counts[body] ?? 0) + 1;
        if (killed) afterKill[body] = (afterKill[body] ?? 0) + 1;
        resolve();
      });
      res.on('error', (e) => { errors.push(e.message); resolve(); });
    });
    req.on('error', (e) => { errors.push(e.message); resolve(); });
  });
  // Kill once the newest has served 50 requests; keep the load on for a second after.
  let stopAt = Date.now() + 10_000;
  const loops = agents.map(async (a) => {
    while (Date.now() < stopAt) {
      await one(a);
      if (!killed && (counts['v2'] ?? 0) >= 50) {
        killed = true;
        afterKill = {};
        v2.child.kill('SIGKILL');
        stopAt = Date.now() + 1000;
      }
    }
  });
  await Promise.all(loops);

  t.same(errors, [], 'no request failed');
  t.ok(killed && (counts['v2'] ?? 0) >= 50, `the newest served before it died (${counts['v2']})`);
  t.ok((afterKill['v1'] ?? 0) > 20, `the previous version took over (${afterKill['v1']})`);
  t.ok((afterKill['v2'] ?? 0) < 20, 'only responses already on their way came from the killed version');
});
