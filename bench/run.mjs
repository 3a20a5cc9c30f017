#!/usr/bin/env node
// Load harness: upshift side by side with a direct connection and other
// proxies. See bench/README.md for what it runs and how to read the output.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { nginxBackend, nginxProxy, haproxy } from './lib/native.mjs';
import { UPLOAD_SIZE } from './lib/bodies.mjs';
import {
  has, setNice, start, waitLine, run, stop, tree, cpuMicros, rssKiB, freePort, waitPort, sleep, median,
} from './lib/proc.mjs';
import { writeReport, isHttpBuild, isUwsBuild } from './lib/report.mjs';

const here = import.meta.dirname;
const root = path.resolve(here, '..');

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    tools: { type: 'string' },
    targets: { type: 'string' },
    workloads: { type: 'string' },
    'idle-connections': { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    nice: { type: 'string' },
    'node-backend': { type: 'boolean', default: false },
    dist: { type: 'string' },
    variant: { type: 'string', multiple: true },
    out: { type: 'string' },
    label: { type: 'string' },
    render: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

// ------------------------------------------------------------------ settings

if (argv.render) {
  const file = path.resolve(argv.render);
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  const files = writeReport(r, path.dirname(file), undefined, path.basename(file, '.json'));
  console.log(`wrote ${files.join(', ')}`);
  process.exit(0);
}

const quick = argv.quick;
const rounds = Math.max(1, Number(argv.rounds ?? (quick ? 3 : 5)));
const seconds = Number(argv.duration ?? (quick ? 2 : 5));
const warmSeconds = quick ? 1 : 2;
const idleCount = Number(argv['idle-connections'] ?? 5000);
const installed = { wrk: has('wrk'), nginx: has('nginx'), haproxy: has('haproxy'), taskset: has('taskset') };
const cpus = os.cpus().length;
const pin = !argv['no-pin'] && installed.taskset && cpus >= 2;
// One core for the proxy under test; the load tool and the backend share the other.
const CPU_PROXY = pin ? cpus - 1 : undefined;
const CPU_LOAD = pin ? 0 : undefined;
const nice = Number(argv.nice ?? 0);
if (nice !== 0) await prioritize(nice);
const tools = (argv.tools ?? (installed.wrk ? 'wrk' : 'autocannon')).split(',').filter(Boolean);
for (const t of tools) {
  if (t === 'wrk' && !installed.wrk) throw new Error('wrk is not installed');
  if (t !== 'wrk' && t !== 'autocannon') throw new Error(`unknown tool ${t}`);
}

/** Throughput workloads: closed-loop load, as many requests as the target answers. */
const WORKLOADS = {
  'keepalive-50': { path: '/', connections: 50, label: 'keep-alive, 100 B, 50 conns' },
  'keepalive-400': { path: '/', connections: 400, label: 'keep-alive, 100 B, 400 conns' },
  'new-conn': { path: '/', connections: 50, close: true, label: 'new connection per request, 100 B' },
  '64k': { path: '/64k', connections: 50, label: 'keep-alive, 64 KiB responses' },
  upload: { path: '/upload', connections: 16, upload: UPLOAD_SIZE, label: '1 MiB uploads, 16 conns' },
};

/** Targets run only when named in --targets: CONCURRENT (two versions on one backend) without and with answer comparison. */
const OPT_IN = ['upshift-concurrent', 'upshift-concurrent-compare', 'upshift-http-concurrent', 'upshift-http-concurrent-compare'];

function ALL_TARGETS() {
  return ['direct', 'upshift', 'upshift-http', 'upshift-uws', 'node-pipe', 'http-proxy', 'fastify', 'nginx', 'haproxy-http', 'haproxy-tcp'];
}

/** The uWebSockets.js engine's target runs where a build of it loads (it is an optional dependency). */
function uwsLoads() {
  const req = createRequire(path.join(root, 'package.json'));
  for (const name of ['uWebSockets.js', 'uwebsockets']) {
    try { if (typeof req(name).App === 'function') return true; } catch { /* not this one */ }
  }
  return false;
}

if (argv.help) {
  console.log(`npm run bench [-- options]
  --quick                 3 rounds × 2 s, a smoke check; default is the full profile (5 rounds × 5 s)
  --rounds N              rounds of A B C … alternation
  --duration S            seconds per run (overrides the profile)
  --tools wrk,autocannon  load tools (default: wrk when installed, else autocannon)
  --targets a,b           subset of: ${ALL_TARGETS().join(',')}; also ${OPT_IN.join(',')}
  --workloads a,b         subset of: ${Object.keys(WORKLOADS).join(',')},latency,memory
  --idle-connections N    connections held open in the memory workload (default 5000)
  --no-pin                do not pin processes to cores with taskset
  --nice N                run backend, proxies and load tools at niceness N (e.g. -10 on a
                          machine busy with other work, so scheduling delays do not dominate)
  --node-backend          use the Node backend even when nginx is installed
  --dist DIR              compiled upshift (default: dist/; built when missing)
  --variant NAME=DIR      also run the upshift compiled in DIR as target upshift-NAME
                          (in http mode when NAME starts with "http", e.g. http-new=DIR;
                          on the uws engine when it starts with "uws"; NAME with "concurrent"
                          runs the CONCURRENT pair, ending in "compare" with answers compared)
                          (before/after comparisons in the same rounds; repeatable)
  --out DIR               where results go (default: bench/results)
  --label TEXT            suffix of the result file names
  --render FILE.json      only rewrite the .md and .svg of an earlier run`);
  process.exit(0);
}

const variants = Object.fromEntries((argv.variant ?? []).map((v) => {
  const i = v.indexOf('=');
  if (i < 1) throw new Error(`--variant wants NAME=DIR, got ${v}`);
  return [`upshift-${v.slice(0, i)}`, path.resolve(v.slice(i + 1))];
}));
const available = [...ALL_TARGETS(), ...OPT_IN, ...Object.keys(variants)].filter((t) => (t === 'nginx' ? installed.nginx : t.startsWith('haproxy') ? installed.haproxy : t === 'upshift-uws' ? uwsLoads() : true));
const targetNames = argv.targets ? [...argv.targets.split(','), ...Object.keys(variants)].filter((t) => available.includes(t)) : available.filter((t) => !OPT_IN.includes(t));
// Variants run right after upshift, so before/after sit next to each other in every round.
for (const v of Object.keys(variants)) {
  targetNames.splice(targetNames.indexOf(v), 1);
  const at = targetNames.indexOf(isUwsBuild(v) ? 'upshift-uws' : isHttpBuild(v) ? 'upshift-http' : 'upshift');
  targetNames.splice(at >= 0 ? at + 1 : targetNames.length, 0, v);
}
if (!targetNames.includes('direct')) targetNames.unshift('direct');
const workloadNames = argv.workloads
  ? argv.workloads.split(',')
  : [...Object.keys(WORKLOADS), 'latency', 'memory'];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'upshift-bench-'));
const children = new Set();

// ---------------------------------------------------------------- the build

let dist = argv.dist ? path.resolve(argv.dist) : path.join(root, 'dist');
if (targetNames.includes('upshift') && !fs.existsSync(path.join(dist, 'core/index.js'))) {
  console.log('building upshift (tsc -p tsconfig.build.json)…');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}

// ------------------------------------------------------------------ targets

async function startBackend() {
  const port = await freePort();
  if (installed.nginx && !argv['node-backend']) {
    const { cmd, args } = nginxBackend(path.join(tmp, 'backend'), port);
    const child = track(start(cmd, args, { cpu: CPU_LOAD }));
    await waitPort(port);
    return { kind: 'nginx (1 worker, static files)', port, child };
  }
  const child = track(start(process.execPath, [path.join(here, 'lib/backend-node.mjs'), String(port)], { cpu: CPU_LOAD }));
  await waitLine(child, /PORT (\d+)/);
  return { kind: 'node raw-socket server (bench/lib/backend-node.mjs)', port, child };
}

const NODE_KINDS = { upshift: 'upshift', 'upshift-http': 'upshift-http', 'upshift-uws': 'upshift-uws', 'node-pipe': 'pipe', 'http-proxy': 'http-proxy', fastify: 'fastify', ...Object.fromEntries(OPT_IN.map((k) => [k, k])) };

/** A variant runs as the build it names: `uws…` on the uws engine, `http…` in http mode, `…concurrent…` (and `…compare`) as the CONCURRENT pair. */
function variantKind(name) {
  if (isUwsBuild(name)) return 'upshift-uws';
  const base = isHttpBuild(name) ? 'upshift-http' : 'upshift';
  if (!name.includes('concurrent')) return base;
  return `${base}-concurrent${name.endsWith('compare') ? '-compare' : ''}`;
}

async function startTarget(name, backendPort) {
  if (name === 'direct') return { name, port: backendPort, pids: [], node: false };
  if (NODE_KINDS[name] || variants[name]) {
    const kind = NODE_KINDS[name] ?? variantKind(name);
    const child = track(start(process.execPath, ['--expose-gc', path.join(here, 'lib/proxy-child.mjs'), kind, String(backendPort), variants[name] ?? dist], { cpu: CPU_PROXY }));
    const m = await waitLine(child, /PORT (\d+)/);
    return { name, port: Number(m[1]), child, pids: [child.pid], node: true };
  }
  const port = await freePort();
  const dir = path.join(tmp, name);
  const spec = name === 'nginx' ? nginxProxy(dir, port, backendPort) : haproxy(dir, port, backendPort, name === 'haproxy-http' ? 'http' : 'tcp');
  const child = track(start(spec.cmd, spec.args, { cpu: CPU_PROXY }));
  await waitPort(port).catch((err) => {
    throw new Error(`${name}: ${err.message}: ${child.stderrText.slice(-1000)}`);
  });
  await sleep(200);
  return { name, port, child, pids: tree(child.pid), node: false };
}

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

async function stopTarget(t) {
  if (t.child) await stop(t.child);
}

// ------------------------------------------------------------------- load

async function wrkScript(w) {
  const lines = [];
  if (w.close) lines.push('wrk.headers["Connection"] = "close"');
  if (w.upload) {
    lines.push('wrk.method = "POST"');
    lines.push(`wrk.body = string.rep("u", ${w.upload})`);
    lines.push('wrk.headers["Content-Type"] = "application/octet-stream"');
  }
  lines.push(`done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"us":%d,"errors":%d,"connectErrors":%d,"p50":%d,"p99":%d,"bytes":%d}\\n',
    summary.requests, summary.duration, e.read + e.write + e.status + e.timeout, e.connect,
    latency:percentile(50), latency:percentile(99), summary.bytes))
end`);
  const file = path.join(tmp, `wrk-${Math.random().toString(36).slice(2)}.lua`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function load(tool, w, port, secs) {
  const url = `http://127.0.0.1:${port}${w.path}`;
  if (tool === 'wrk') {
    const script = await wrkScript(w);
    const out = await run('wrk', ['-t1', `-c${w.connections}`, `-d${secs}s`, '--timeout', '5s', '-s', script, url], { cpu: CPU_LOAD, ms: (secs + 30) * 1000 });
    const m = /WRKJSON (\{.*\})/.exec(out);
    if (!m) throw new Error(`wrk printed no summary: ${out.slice(-500)}`);
    const r = JSON.parse(m[1]);
    return { requests: r.requests, seconds: r.us / 1e6, errors: r.errors, p50: r.p50, p99: r.p99 };
  }
  const opts = {
    url, connections: w.connections, seconds: secs,
    method: w.upload ? 'POST' : 'GET',
    headers: { ...(w.close ? { connection: 'close' } : {}), ...(w.upload ? { 'content-type': 'application/octet-stream' } : {}) },
    bodySize: w.upload,
  };
  const out = await run(process.execPath, [path.join(here, 'lib/ac-child.mjs'), JSON.stringify(opts)], { cpu: CPU_LOAD, ms: (secs + 30) * 1000 });
  return JSON.parse(out.trim().split('\n').pop());
}

async function measured(t, fn) {
  const before = cpuMicros(t.pids);
  const r = await fn();
  const cpu = cpuMicros(t.pids) - before;
  return { ...r, cpuUs: t.pids.length ? cpu : null, rssKiB: t.pids.length ? rssKiB(t.pids) : null };
}

// ------------------------------------------------------------------- main

const results = {
  date: new Date().toISOString(),
  profile: quick ? 'quick' : 'full',
  rounds, seconds, tools, rotated: true,
  machine: { cpus, model: os.cpus()[0]?.model, node: process.version, kernel: os.release(), load: os.loadavg() },
  pinning: (pin ? `proxy on CPU ${CPU_PROXY}; backend and load tool on CPU ${CPU_LOAD} (taskset)` : 'none') + (nice ? `; all at nice ${nice}` : ''),
  installed,
  git: gitInfo(),
  backend: null,
  throughput: {},
  latency: null,
  memory: null,
};

function gitInfo() {
  // The build under test may come from another checkout (--dist, --variant): describe each.
  const describe = (dir) => {
    try {
      const cwd = fs.realpathSync(dir);
      const top = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: top }).toString().trim();
      const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src/core'], { cwd: top }).toString().trim() !== '';
      return { dir, commit, srcCoreDirty: dirty };
    } catch {
      return { dir, commit: null };
    }
  };
  return { upshift: describe(dist), variants: Object.fromEntries(Object.entries(variants).map(([k, d]) => [k, describe(d)])) };
}

function log(...a) {
  console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
}

async function cleanup() {
  await Promise.all([...children].map((c) => stop(c)));
  fs.rmSync(tmp, { recursive: true, force: true });
}
// Interrupted or timed out: stop nginx/HAProxy too (they would outlive us).
process.on('SIGINT', () => { cleanup().finally(() => process.exit(130)); });
process.on('SIGTERM', () => { cleanup().finally(() => process.exit(143)); });

try {
  const backend = await startBackend();
  results.backend = backend.kind;
  log(`backend: ${backend.kind} on ${backend.port}; ${results.pinning}; tools: ${tools.join(', ')}; ${rounds} rounds × ${seconds} s`);

  const throughputNames = workloadNames.filter((n) => WORKLOADS[n]);
  const needLatency = workloadNames.includes('latency');
  if (throughputNames.length || needLatency) {
    const targets = [];
    for (const name of targetNames) targets.push(await startTarget(name, backend.port));
    log(`targets: ${targets.map((t) => `${t.name}:${t.port}`).join(' ')}`);

    for (const wn of throughputNames) {
      const w = WORKLOADS[wn];
      for (const tool of tools) {
        const key = `${wn}/${tool}`;
        log(`${key}: warm-up`);
        for (const t of targets) await load(tool, w, t.port, warmSeconds).catch(() => {});
        const runs = Object.fromEntries(targets.map((t) => [t.name, []]));
        for (let r = 0; r < rounds; r++) {
          for (const t of rotate(targets, r)) {
            let res;
            try {
              res = await measured(t, () => load(tool, w, t.port, seconds));
              res.rps = res.requests / res.seconds;
              res.cpuPerReq = res.cpuUs === null ? null : res.cpuUs / res.requests;
            } catch (err) {
              res = { failed: String(err.message ?? err).slice(0, 300) };
            }
            runs[t.name].push(res);
            log(`${key} round ${r + 1} ${t.name}: ${res.rps ? Math.round(res.rps) + ' req/s' : res.failed}${res.cpuPerReq ? `, ${res.cpuPerReq.toFixed(1)} µs/req` : ''}${res.errors ? `, ${res.errors} errors` : ''}`);
            await sleep(300);
          }
          // Ratios to direct within the round: the load on the machine is shared and drifts.
          const d = runs.direct[r]?.rps;
          for (const t of targets) {
            const x = runs[t.name][r];
            if (x.rps && d) x.ratio = x.rps / d;
          }
        }
        results.throughput[key] = { workload: wn, label: w.label, tool, connections: w.connections, targets: summarize(runs) };
        saveProgress();
      }
    }

    if (needLatency) {
      results.latency = [];
      for (const basis of ['direct', 'node-pipe']) {
        if (!targets.some((t) => t.name === basis)) continue;
        results.latency.push(await latency(targets, basis));
        saveProgress();
      }
    }
    for (const t of targets) await stopTarget(t);
  }

  if (workloadNames.includes('memory')) {
    results.memory = await memory(backend.port);
  }
  await stop(backend.child);

  const files = writeReport(results, argv.out ? path.resolve(argv.out) : path.join(here, 'results'), argv.label);
  log(`wrote ${files.join(', ')}`);
} finally {
  await cleanup();
}

/** Each round starts one target later, so no target always runs right after the same one. */
function rotate(list, r) {
  const k = r % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

function summarize(runs) {
  const out = {};
  for (const [name, rs] of Object.entries(runs)) {
    const ok = rs.filter((r) => r.rps);
    out[name] = {
      rps: median(ok.map((r) => r.rps)),
      ratio: median(ok.map((r) => r.ratio)),
      cpuPerReq: median(ok.map((r) => r.cpuPerReq)),
      rssMiB: median(ok.map((r) => (r.rssKiB === null ? null : r.rssKiB / 1024))),
      p50: median(ok.map((r) => r.p50)),
      p99: median(ok.map((r) => r.p99)),
      errors: rs.reduce((s, r) => s + (r.errors ?? 0), 0),
      failedRuns: rs.length - ok.length,
      runs: rs,
    };
  }
  return out;
}

function saveProgress() {
  fs.writeFileSync(path.join(tmp, 'progress.json'), JSON.stringify(results));
}

/**
 * p50/p99 at a fixed rate of half the maximum of `basis` (keep-alive, 50
 * conns), with the paced client; each target's figure is compared with
 * direct's in the same round. Half the direct maximum is the issue's figure;
 * when that is more than the proxies can serve (the machine is shared, the
 * backend fast), they queue, so half the bare Node pipe's maximum is also run:
 * a load every L4 Node proxy should carry without queueing.
 */
async function latency(targets, basis) {
  const ka = results.throughput['keepalive-50/wrk'] ?? results.throughput['keepalive-50/autocannon'];
  let max = ka?.targets[basis]?.rps;
  if (!max) {
    const w = WORKLOADS['keepalive-50'];
    const t = targets.find((x) => x.name === basis);
    max = (await load(tools[0], w, t.port, seconds)).requests / seconds;
  }
  const rate = Math.round(max / 2 / 100) * 100;
  const conns = 50;
  log(`latency: ${rate} req/s (half the ${basis} maximum) over ${conns} connections, ${seconds} s per run`);
  const runs = Object.fromEntries(targets.map((t) => [t.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const t of rotate(targets, r)) {
      let res;
      try {
        res = await measured(t, async () => {
          const out = await run(process.execPath, [path.join(here, 'lib/paced.mjs'), String(t.port), '/', String(rate), String(conns), String(seconds)], { cpu: CPU_LOAD, ms: (seconds + 30) * 1000 });
          return JSON.parse(out.trim().split('\n').pop());
        });
      } catch (err) {
        res = { failed: String(err.message ?? err).slice(0, 300) };
      }
      runs[t.name].push(res);
      log(`latency round ${r + 1} ${t.name}: p50 ${res.p50} µs, p99 ${res.p99} µs, ${res.achievedRate} req/s`);
      await sleep(300);
    }
    const d = runs.direct[r];
    for (const t of targets) {
      const x = runs[t.name][r];
      if (x.p99 != null && d?.p99 != null) {
        x.addedP50 = x.p50 - d.p50;
        x.addedP99 = x.p99 - d.p99;
      }
    }
  }
  const out = {};
  for (const [name, rs] of Object.entries(runs)) {
    const ok = rs.filter((r) => r.p99 != null);
    out[name] = {
      p50: median(ok.map((r) => r.p50)),
      p99: median(ok.map((r) => r.p99)),
      addedP50: median(ok.map((r) => r.addedP50)),
      addedP99: median(ok.map((r) => r.addedP99)),
      achievedRate: median(ok.map((r) => r.achievedRate)),
      cpuPerReq: median(ok.map((r) => (r.cpuUs == null ? null : r.cpuUs / r.done))),
      runs: rs,
    };
  }
  return { rate, basis, connections: conns, targets: out };
}

/**
 * RSS per idle connection: a fresh process per target, warmed up, then N
 * connections that each made one request and stay open.
 */
async function memory(backendPort) {
  const out = { connections: idleCount, targets: {} };
  for (const name of targetNames) {
    if (name === 'direct') continue;
    let t;
    try {
      t = await startTarget(name, backendPort);
      await load(tools[0], WORKLOADS['keepalive-50'], t.port, 1).catch(() => {});
      await settle(t);
      const before = rssKiB(t.pids);
      const client = track(start(process.execPath, [path.join(here, 'lib/idle.mjs'), String(t.port), String(idleCount)], { cpu: CPU_LOAD, stdin: 'pipe' }));
      const m = await waitLine(client, /READY (\d+) (\d+)/, 120_000);
      await sleep(1000);
      await settle(t);
      const after = rssKiB(t.pids);
      client.stdin.end();
      await stop(client);
      const ok = Number(m[1]);
      const perConn = ok > 0 ? (after - before) / ok : null;
      out.targets[name] = { beforeMiB: before / 1024, afterMiB: after / 1024, open: ok, failed: Number(m[2]), kibPerConnection: perConn };
      log(`memory ${name}: ${(before / 1024).toFixed(1)} → ${(after / 1024).toFixed(1)} MiB with ${ok} idle connections (${m[2]} failed): ${perConn?.toFixed(1)} KiB each`);
    } catch (err) {
      out.targets[name] = { failed: String(err.message ?? err).slice(0, 300) };
      log(`memory ${name}: failed: ${err.message}`);
    } finally {
      if (t) await stopTarget(t);
    }
  }
  return out;
}

/** Lets a Node target collect garbage before an RSS reading (SIGUSR2 → gc()); native ones just wait. */
async function settle(t) {
  if (t.node) {
    t.child.kill('SIGUSR2');
  }
  await sleep(700);
}

/**
 * Raises (or lowers) the priority of everything the harness starts. With
 * autogroup scheduling (the usual default) a process's nice value only counts
 * against processes of its own session, so the harness re-runs itself in a
 * new session and sets that session's autogroup nice; per-process nice covers
 * kernels without autogroup.
 */
async function prioritize(n) {
  setNice(n);
  let autogroup = false;
  try {
    autogroup = fs.readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1';
  } catch { /* no autogroup */ }
  if (!autogroup || !has('setsid')) return;
  if (process.env.UPSHIFT_BENCH_SESSION === undefined) {
    const child = spawn('setsid', ['-w', process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit', env: { ...process.env, UPSHIFT_BENCH_SESSION: '1' },
    });
    process.on('SIGINT', () => child.kill('SIGINT'));
    const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
    process.exit(code);
  }
  try {
    fs.writeFileSync('/proc/self/autogroup', String(n));
  } catch (err) {
    console.warn(`could not set the session's priority: ${err.message}`);
  }
}
