#!/usr/bin/env node
// What the judgement costs per request: upshift with two versions, the newest
// judged (`judge.enabled: true`, the default) or not, measured as CPU
// instructions per request under valgrind's callgrind. Instruction counts do
// not depend on what else the machine is doing, so on/off differences of a
// few percent are visible on a shared, noisy machine where CPU time is not.
//
//   node bench/judge-cost.mjs [--requests N] [--warm N] [--dist DIR]
//
// Per case (http keep-alive, http new connection per request, stream new
// connection per request) and per setting (on, off): start the proxy under
// callgrind, send `warm` requests (JIT, pools), zero the counters, send
// `requests` requests, dump, and divide the dump's total instructions by
// `requests`. The load is sent by this process (not under valgrind), one
// request at a time, to bench/lib/backend-node.mjs.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: argv } = parseArgs({
  options: { requests: { type: 'string', default: '4000' }, warm: { type: 'string', default: '4000' }, dist: { type: 'string' }, rounds: { type: 'string', default: '1' } },
});
const here = import.meta.dirname;
const dist = path.resolve(argv.dist ?? path.join(here, '..', 'dist'));
const REQUESTS = Number(argv.requests);
const WARM = Number(argv.warm);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'upshift-judge-cost-'));

function waitLine(child, re) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; const m = re.exec(out); if (m) resolve(m); });
    child.once('exit', (code) => reject(new Error(`exited ${code} before ${re}: ${out}`)));
  });
}

/** `count` GETs, one at a time, on one kept-alive connection or a new one each. */
async function load(port, count, keepAlive) {
  const req = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`, 'latin1');
  let sock = null;
  for (let i = 0; i < count; i++) {
    if (sock === null) {
      sock = net.connect(port, '127.0.0.1');
      sock.setNoDelay(true);
      await new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); });
    }
    const s = sock;
    await new Promise((resolve, reject) => {
      let got = '';
      const onData = (d) => {
        got += d.toString('latin1');
        const end = got.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/content-length: *(\d+)/i.exec(got.slice(0, end))?.[1] ?? 0);
        if (got.length - end - 4 < len) return;
        if (!got.startsWith('HTTP/1.1 200')) { reject(new Error(`answer ${got.slice(0, 40)}`)); return; }
        s.off('data', onData);
        resolve();
      };
      s.on('data', onData);
      s.once('error', reject);
    });
    if (!keepAlive) {
      s.destroy();
      sock = null;
    }
  }
  sock?.destroy();
}

function totalInstructions(file) {
  const text = fs.readFileSync(file, 'utf8');
  const m = /^(?:summary|totals):\s+(\d+)/m.exec(text);
  if (!m) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
}

async function measure(backendPort, mode, judge, keepAlive) {
  const out = path.join(tmp, `cg-${mode}-${judge}-${keepAlive ? 'ka' : 'nc'}-${Date.now()}.out`);
  const child = spawn('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${out}`,
    process.execPath, '--max-semi-space-size=16', path.join(here, 'lib/judge-child.mjs'), dist, String(backendPort), mode, judge], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.resume();
  const m = await waitLine(child, /PORT (\d+)/);
  const port = Number(m[1]);
  await load(port, WARM, keepAlive);
  execFileSync('callgrind_control', ['-z', String(child.pid)], { stdio: 'ignore' });
  await load(port, REQUESTS, keepAlive);
  execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  // The dump after -d is named <out>.<n>.
  const dumps = fs.readdirSync(tmp).filter((f) => f.startsWith(path.basename(out)) && f !== path.basename(out));
  const ir = Math.max(...dumps.map((f) => totalInstructions(path.join(tmp, f))));
  return ir / REQUESTS;
}

const backend = spawn(process.execPath, [path.join(here, 'lib/backend-node.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
const backendPort = Number((await waitLine(backend, /PORT (\d+)/))[1]);
const cases = [
  { name: 'http keep-alive', mode: 'http', keepAlive: true },
  { name: 'http new connection', mode: 'http', keepAlive: false },
  { name: 'stream new connection', mode: 'stream', keepAlive: false },
];
const rows = [];
try {
  for (const c of cases) {
    const on = [];
    const off = [];
    // Alternate on and off so a drift (none expected in instruction counts) shows.
    for (let r = 0; r < Number(argv.rounds); r++) {
      off.push(await measure(backendPort, c.mode, 'off', c.keepAlive));
      on.push(await measure(backendPort, c.mode, 'on', c.keepAlive));
    }
    const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    rows.push({ case: c.name, off: med(off), on: med(on), ratio: med(on) / med(off) });
    console.log(`${c.name}: judge off ${Math.round(med(off))} instr/request, on ${Math.round(med(on))} (${((med(on) / med(off) - 1) * 100).toFixed(2)} %)`);
  }
} finally {
  backend.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log('\n| case | judge off (instructions/request) | judge on | on / off |\n|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.case} | ${Math.round(r.off)} | ${Math.round(r.on)} | ${r.ratio.toFixed(3)} |`);
