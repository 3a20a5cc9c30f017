#!/usr/bin/env node
// Runs the test suite: builds dist/ (the CLI tests spawn the real binary),
// runs tap, and ends with one line "N passed, N failed" counting every
// assertion across all test files (from tap's closing "# { total, pass, fail }").
import { spawn, spawnSync } from 'node:child_process';

const build = spawnSync('npx', ['--no-install', 'tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const args = process.argv.slice(2);
const child = spawn('npx', ['--no-install', 'tap', '--reporter=tap', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
let tail = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  tail = (tail + d.toString()).slice(-4096);
});
child.on('close', (code) => {
  const m = [...tail.matchAll(/^# \{ total: (\d+)(.*)\}$/gm)].pop();
  const field = (name) => Number(new RegExp(`${name}: (\\d+)`).exec(m?.[2] ?? '')?.[1] ?? 0);
  let pass = m ? field('pass') : 0;
  let fail = m ? field('fail') : 0;
  const skip = m ? field('skip') + field('todo') : 0;
  // A run that failed without a failing assertion (a crash, a timeout) still fails.
  if (code !== 0 && fail === 0) fail = 1;
  console.log(`\n${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`);
  process.exit(code ?? 1);
});
