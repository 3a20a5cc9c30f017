// Child processes, pinning, and /proc readings (CPU ticks, RSS).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export function has(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

let niceness = 0;
/** Scheduling priority for every process started from here on (see --nice). */
export function setNice(n) {
  niceness = n;
}

/**
 * Spawns `cmd args`, pinned to `cpu` with taskset when given, at the chosen
 * niceness (nice and taskset exec, so the pid is the command's).
 */
export function start(cmd, args, { cpu, env, stdin = 'ignore' } = {}) {
  let [c, a] = cpu !== undefined ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
  if (niceness !== 0) [c, a] = ['nice', ['-n', String(niceness), c, ...a]];
  const child = spawn(c, a, { stdio: [stdin, 'pipe', 'pipe'], env: env ?? process.env });
  child.stderrText = '';
  child.stderr.on('data', (d) => { if (child.stderrText.length < 20_000) child.stderrText += d; });
  return child;
}

/** Resolves with the first stdout line matching `re` (its match), or rejects on exit/timeout. */
export function waitLine(child, re, ms = 20_000) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`timeout waiting for ${re}`)), ms);
    const onData = (d) => {
      out += d;
      const m = re.exec(out);
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = (code) => fail(new Error(`exited (${code}) before ${re}: ${child.stderrText.slice(-2000)}`));
    const fail = (e) => { cleanup(); reject(e); };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout.on('data', onData);
    child.on('exit', onExit);
  });
}

/** Runs a command to completion (bounded), resolves with stdout. */
export function run(cmd, args, { cpu, ms = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = start(cmd, args, { cpu });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited ${code ?? sig}: ${child.stderrText.slice(-2000)}${out.slice(-500)}`));
    });
  });
}

/** Stops a child we started: SIGTERM, then SIGKILL after a grace period. */
export function stop(child, graceMs = 3000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

/** The process and its descendants (nginx master + worker). */
export function tree(pid) {
  const pids = [pid];
  const byParent = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
      if (!byParent.has(ppid)) byParent.set(ppid, []);
      byParent.get(ppid).push(Number(d));
    } catch { /* gone */ }
  }
  for (let i = 0; i < pids.length; i++) pids.push(...(byParent.get(pids[i]) ?? []));
  return pids;
}

/** CPU time used so far by `pids`, in microseconds (user + system). */
export function cpuMicros(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return (ticks * 1e6) / TICKS;
}

/** Resident set size of `pids`, in KiB. */
export function rssKiB(pids) {
  let kib = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch { /* gone */ }
  }
  return kib;
}

/**
 * A port for nginx/HAProxy to listen on, below the ephemeral range: a port in
 * that range may be the local end of some TIME_WAIT connection, and a
 * listener cannot bind it then.
 */
export async function freePort() {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const ok = await new Promise((resolve) => {
      const s = net.createServer();
      s.on('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free port');
}

export async function waitPort(port, ms = 10_000) {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('connect', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} never opened`);
    await sleep(100);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
