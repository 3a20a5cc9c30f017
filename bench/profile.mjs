#!/usr/bin/env node
// CPU profile of one proxy under one workload: starts the backend and the
// proxy (with node --cpu-prof), drives wrk at it, then prints where the
// proxy's time went (self time by function and by file).
//
//   node bench/profile.mjs [--target upshift] [--workload new-conn|keepalive-50|...] [--duration 8] [--dist DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { nginxBackend } from './lib/native.mjs';
import { has, start, waitLine, run, stop, freePort, waitPort } from './lib/proc.mjs';

const here = import.meta.dirname;
const { values: a } = parseArgs({
  options: {
    target: { type: 'string', default: 'upshift' },
    workload: { type: 'string', default: 'keepalive-50' },
    duration: { type: 'string', default: '8' },
    dist: { type: 'string', default: path.resolve(here, '../dist') },
    out: { type: 'string' },
    top: { type: 'string', default: '30' },
  },
});
const W = {
  'keepalive-50': { path: '/', c: 50, lua: '' },
  'keepalive-400': { path: '/', c: 400, lua: '' },
  'new-conn': { path: '/', c: 50, lua: 'wrk.headers["Connection"] = "close"\n' },
  '64k': { path: '/64k', c: 50, lua: '' },
  upload: { path: '/upload', c: 16, lua: 'wrk.method = "POST"\nwrk.body = string.rep("u", 1048576)\nwrk.headers["Content-Type"] = "application/octet-stream"\n' },
}[a.workload];
if (!W) throw new Error(`unknown workload ${a.workload}`);
const kind = { upshift: 'upshift', 'upshift-http': 'upshift-http', 'upshift-uws': 'upshift-uws', 'node-pipe': 'pipe', 'http-proxy': 'http-proxy', fastify: 'fastify' }[a.target];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'upshift-prof-'));
const profDir = a.out ? path.resolve(a.out) : path.join(tmp, 'prof');
fs.mkdirSync(profDir, { recursive: true });
const pin = has('taskset') && os.cpus().length >= 2;

const bport = await freePort();
let backend;
if (has('nginx')) {
  const { cmd, args } = nginxBackend(path.join(tmp, 'backend'), bport);
  backend = start(cmd, args, { cpu: pin ? 0 : undefined });
  await waitPort(bport);
} else {
  backend = start(process.execPath, [path.join(here, 'lib/backend-node.mjs'), String(bport)], { cpu: pin ? 0 : undefined });
  await waitLine(backend, /PORT/);
}
const proxy = start(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, path.join(here, 'lib/proxy-child.mjs'), kind, String(bport), a.dist], { cpu: pin ? os.cpus().length - 1 : undefined });
const port = Number((await waitLine(proxy, /PORT (\d+)/))[1]);
const script = path.join(tmp, 'w.lua');
fs.writeFileSync(script, W.lua);
try {
  await run('wrk', ['-t1', `-c${W.c}`, '-d2s', '-s', script, `http://127.0.0.1:${port}${W.path}`], { cpu: pin ? 0 : undefined });
  const out = await run('wrk', ['-t1', `-c${W.c}`, `-d${a.duration}s`, '-s', script, `http://127.0.0.1:${port}${W.path}`], { cpu: pin ? 0 : undefined });
  console.log(out.split('\n').filter((l) => /Requests\/sec|requests in|errors/.test(l)).join('\n'));
} finally {
  // The child exits on SIGTERM through process.exit(), which writes the profile.
  await stop(proxy, 10_000);
  await stop(backend);
}
const file = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profDir, f)).sort().pop();
if (!file) throw new Error('no profile written');
summarize(JSON.parse(fs.readFileSync(file, 'utf8')), Number(a.top));
// Keep only the profile; the backend's files and the wrk script go.
for (const f of fs.readdirSync(tmp)) if (path.join(tmp, f) !== profDir) fs.rmSync(path.join(tmp, f), { recursive: true, force: true });
console.log(`profile: ${file}`);

function summarize(p, top) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = p.timeDeltas;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    self.set(n, (self.get(n) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...self.values()].reduce((s, x) => s + x, 0);
  const idle = [...self.entries()].filter(([n]) => n.callFrame.functionName === '(idle)').reduce((s, [, x]) => s + x, 0);
  const busy = total - idle;
  const fn = new Map();
  const file = new Map();
  for (const [n, t] of self) {
    const cf = n.callFrame;
    if (cf.functionName === '(idle)') continue;
    const where = cf.url ? cf.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/') : '';
    const k = `${cf.functionName || '(anonymous)'} ${where}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    fn.set(k, (fn.get(k) ?? 0) + t);
    const fk = where || (cf.functionName.startsWith('(') ? cf.functionName : '(native)');
    file.set(fk, (file.get(fk) ?? 0) + t);
  }
  const pct = (x) => ((100 * x) / busy).toFixed(1).padStart(5) + '%';
  console.log(`\nbusy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled; self time, share of busy:`);
  for (const [k, t] of [...fn].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
  console.log('\nby file:');
  for (const [k, t] of [...file].sort((x, y) => y[1] - x[1]).slice(0, 20)) console.log(`${pct(t)}  ${k}`);
}
