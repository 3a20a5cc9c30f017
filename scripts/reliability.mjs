#!/usr/bin/env node
// Runs the reliability suite (test/reliability, issue 6): builds dist/ (the
// scenarios run the built library and the sidecar binary in child
// processes), runs the scenario files one after another with tap (they
// measure fds, memory and latency, so they must not share the machine with
// each other), prints the figures table the scenarios reported, and ends with
// one line "N passed, N failed" counting assertions. Exit status 1 on any
// failure.
//
//   npm run test:reliability                               CI profile, scenarios 1-9 and 11 (hostile inputs)
//   RELIABILITY_PROFILE=soak npm run test:reliability      adds the soaks (10: 10 min of churn, 12: 60 min judged) and longer runs
//   npm run test:reliability -- 05 06                      only the scenarios whose file names start so
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dir = path.join(root, 'test', 'reliability');
const profile = process.env.RELIABILITY_PROFILE === 'soak' ? 'soak' : 'ci';
const only = process.argv.slice(2);

const build = spawnSync('npx', ['--no-install', 'tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const files = readdirSync(dir)
  .filter((f) => /^\d\d-.*\.test\.ts$/.test(f))
  .filter((f) => profile === 'soak' || !/^1[02]-/.test(f))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort()
  .map((f) => path.join('test', 'reliability', f));

const tmp = mkdtempSync(path.join(os.tmpdir(), 'upshift-reliability-'));
const figuresFile = path.join(tmp, 'figures.jsonl');
const started = Date.now();
// One file at a time (-j1); a scenario may take minutes in the soak profile.
const args = ['--no-install', 'tap', '--reporter=tap', '-j1', `--timeout=${profile === 'soak' ? 4800 : 600}`, ...files];
const child = spawn('npx', args, {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, RELIABILITY_PROFILE: profile, RELIABILITY_FIGURES: figuresFile },
});
let out = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  out += d.toString();
});
const code = await new Promise((resolve) => child.on('close', resolve));

// Which scenario files passed, from tap's top-level result lines.
const fileResult = new Map();
for (const m of out.matchAll(/^(not ok|ok) \d+ - (test\/reliability\/(\d\d)-[^\s#]+)/gm)) fileResult.set(m[3], m[1] === 'ok');

let figures = [];
try {
  figures = readFileSync(figuresFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
} catch { /* no scenario reported: the table says so */ }
rmSync(tmp, { recursive: true, force: true });

const cell = (v) => String(v ?? '').replace(/\|/g, '/');
const rows = figures.map((f) => {
  const n = /^(\d+)/.exec(f.scenario)?.[1]?.padStart(2, '0');
  const result = fileResult.has(n) ? (fileResult.get(n) ? 'pass' : 'FAIL') : '?';
  const load = f.requests === undefined ? '' : `${f.requests} / ${f.errors ?? 0}`;
  return `| ${cell(f.scenario)} | ${result} | ${cell(load)} | ${cell(f.faults)} | ${cell(f.inputs)} | ${cell(f.lost)} | ${cell(f.notes)} |`;
});
const missing = files.map((f) => /(\d\d)-/.exec(f)[1]).filter((n) => !figures.some((f) => /^(\d+)/.exec(f.scenario)?.[1]?.padStart(2, '0') === n));
console.log(`\nReliability figures (profile ${profile}, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
console.log('A client-visible error: a request that did not end in a complete 200 from a backend (refused or reset, no answer within 5 s, a status the proxy made, or a cut body).');
console.log('| scenario | result | load held (requests / errors) | faults survived | bad inputs tried | lost | notes |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
for (const n of missing) console.log(`| ${n} | ${fileResult.get(n) === false ? 'FAIL' : '?'} | | | | no figures reported | |`);

const m = [...out.matchAll(/^# \{ total: (\d+)(.*)\}$/gm)].pop();
const field = (name) => Number(new RegExp(`${name}: (\\d+)`).exec(m?.[2] ?? '')?.[1] ?? 0);
const pass = m ? field('pass') : 0;
let fail = m ? field('fail') : 0;
if ((code !== 0 || missing.length > 0) && fail === 0) fail = 1;
console.log(`\n${pass} passed, ${fail} failed`);
process.exit(fail > 0 || code !== 0 ? 1 : 0);
