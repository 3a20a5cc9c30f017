#!/usr/bin/env node
// What the judgement costs per request: upshift with two versions, the newest
// judged (`judge.enabled: true`, the default) or not, side by side.
//
//   node bench/judge-cost.mjs [--requests N] [--rounds R] [--dist DIR] [--cases stream,http]
//
// Per case (http keep-alive, http new connection per request, stream new
// connection per request) both proxies run at once, each in its own process;
// every round sends `requests` requests (8 at a time) to one, then to the
// other (the order alternates), and reads the CPU time (user + system, from
// /proc/<pid>/stat) each spent. The ratio on/off is taken per round, and the
// median over the rounds is reported: on a shared machine a single round's
// CPU time swings by 10 % or more, the paired median much less.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: argv } = parseArgs({
  options: { requests: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '9' }, dist: { type: 'string' }, cases: { type: 'string' } },
});
const here = import.meta.dirname;
const dist = path.resolve(argv.dist ?? path.join(here, '..', 'dist'));
const REQUESTS = Number(argv.requests);
const ROUNDS = Number(argv.rounds);
const TICK = 100; // USER_HZ: /proc times are in 1/100 s on Linux

function waitLine(child, re) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; const m = re.exec(out); if (m) resolve(m); });
    child.once('exit', (code) => reject(new Error(`exited ${code} before ${re}: ${out}`)));
  });
}

function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICK;
}

/** `count` GETs over `parallel` workers, each on one kept-alive connection or a new one per request. */
async function load(port, count, keepAlive, parallel = 8) {
  const req = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`, 'latin1');
  let left = count;
  const worker = async () => {
    let sock = null;
    while (left-- > 0) {
      if (sock === null) {
        sock = net.connect(port, '127.0.0.1');
        sock.setNoDelay(true);
        await new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); });
      }
      const s = sock;
      s.write(req);
      await new Promise((resolve, reject) => {
        let got = '';
        const onData = (d) => {
          got += d.toString('latin1');
          const end = got.indexOf('\r\n\r\n');
          if (end < 0) return;
          const len = Number(/content-length: *(\d+)/i.exec(got.slice(0, end))?.[1] ?? 0);
          if (got.length - end - 4 < len) return;
          s.off('data', onData);
          if (!got.startsWith('HTTP/1.1 200')) reject(new Error(`answer ${got.slice(0, 40)}`));
          else resolve();
        };
        s.on('data', onData);
      });
      if (!keepAlive) { s.destroy(); sock = null; }
    }
    sock?.destroy();
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

async function startProxy(backendPort, mode, judge) {
  const child = spawn(process.execPath, [path.join(here, 'lib/judge-child.mjs'), dist, String(backendPort), mode, judge], { stdio: ['ignore', 'pipe', 'inherit'] });
  const m = await waitLine(child, /PORT (\d+)/);
  return { child, port: Number(m[1]) };
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const backend = spawn(process.execPath, [path.join(here, 'lib/backend-node.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
const backendPort = Number((await waitLine(backend, /PORT (\d+)/))[1]);
const cases = [
  { name: 'http keep-alive', mode: 'http', keepAlive: true },
  { name: 'http new connection', mode: 'http', keepAlive: false },
  { name: 'stream new connection', mode: 'stream', keepAlive: false },
].filter((c) => argv.cases === undefined || argv.cases.split(',').some((w) => c.name.startsWith(w)));
const rows = [];
try {
  for (const c of cases) {
    const on = await startProxy(backendPort, c.mode, 'on');
    const off = await startProxy(backendPort, c.mode, 'off');
    const measure = async (p) => { const before = cpuMs(p.child.pid); await load(p.port, REQUESTS, c.keepAlive); return ((cpuMs(p.child.pid) - before) * 1000) / REQUESTS; };
    // Warm-up: JIT and pools, not counted.
    await load(on.port, REQUESTS, c.keepAlive);
    await load(off.port, REQUESTS, c.keepAlive);
    const ratios = [];
    const usOn = [];
    const usOff = [];
    for (let r = 0; r < ROUNDS; r++) {
      const first = r % 2 === 0 ? on : off;
      const a = await measure(first);
      const b = await measure(first === on ? off : on);
      const [x, y] = first === on ? [a, b] : [b, a];
      usOn.push(x);
      usOff.push(y);
      ratios.push(x / y);
    }
    on.child.kill();
    off.child.kill();
    rows.push({ case: c.name, off: median(usOff), on: median(usOn), ratio: median(ratios), spread: [Math.min(...ratios), Math.max(...ratios)] });
    console.log(`${c.name}: off ${median(usOff).toFixed(1)} µs/request, on ${median(usOn).toFixed(1)}, paired median on/off ${median(ratios).toFixed(3)} (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`);
  }
} finally {
  backend.kill('SIGKILL');
}
console.log(`\n${ROUNDS} rounds × ${REQUESTS} requests, 8 at a time; CPU time of the proxy process\n`);
console.log('| case | judge off (CPU µs/request) | judge on | on / off (paired median) | rounds |\n|---|---:|---:|---:|---|');
for (const r of rows) console.log(`| ${r.case} | ${r.off.toFixed(1)} | ${r.on.toFixed(1)} | ${r.ratio.toFixed(3)} | ${r.spread[0].toFixed(2)}–${r.spread[1].toFixed(2)} |`);
