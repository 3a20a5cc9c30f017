#!/usr/bin/env node
// Runs the test suite: builds dist/ (the CLI tests spawn the real binary),
// runs tap, and ends with one line "N passed, N failed" counting every
// assertion across all test files. The TAP stream is summarized
// (scripts/tap-summary.mjs: a progress line, failures in full);
// UPSHIFT_TEST_REPORTER=tap prints it raw.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { summarize } from './tap-summary.mjs';

// A fresh dist/, as `npm run build` makes it: no file left from an older build (the package test checks what ships).
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const build = spawnSync('npx', ['--no-install', 'tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const raw = process.env.UPSHIFT_TEST_REPORTER === 'tap';
const args = process.argv.slice(2);
const child = spawn('npx', ['--no-install', 'tap', '--reporter=tap', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
const closed = new Promise((resolve) => child.on('close', (code) => resolve(code)));
let result;
if (raw) {
  child.stdout.pipe(process.stdout, { end: false });
  const { PassThrough } = await import('node:stream');
  const tee = new PassThrough();
  child.stdout.pipe(tee);
  result = await summarize(tee, () => {});
} else {
  result = await summarize(child.stdout, (s) => process.stdout.write(s), { tty: process.stdout.isTTY === true });
}
const code = await closed;
const { pass } = result;
let { fail } = result;
const { skip } = result;
// A run that failed without a failing assertion (a crash, a timeout) still fails.
if (code !== 0 && fail === 0) fail = 1;
console.log(`\n${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`);
process.exit(code ?? 1);
