#!/usr/bin/env node
// Turns tap's TAP stream (one "# Subtest: <file>" block per test file) into
// what a person wants from `npm test`: a progress line, every failing file's
// block in full, and the last line "N passed, N failed" counting every
// assertion (from tap's closing "# { total, pass, fail }").
//
// On a terminal the progress line is rewritten in place; elsewhere (CI logs)
// each file gets one line. As a command it filters stdin (`--tty` forces the
// terminal form); scripts/test.mjs uses `summarize`.
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * Reads TAP lines from `input`, writes the summary with `write`; resolves
 * with the totals: { pass, fail, skip, files, failedFiles }.
 */
export async function summarize(input, write, { tty = false } = {}) {
  let block = [];
  let files = 0;
  const failedFiles = [];
  let totals;
  let progress = false;
  const clear = () => {
    if (progress) write('\r\x1b[K');
    progress = false;
  };
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    const end = /^(ok|not ok) \d+ - (.*?)(?: # (.*))?$/.exec(line);
    if (end !== null) {
      files++;
      const [, verdict, name, directive = ''] = end;
      const time = /time=([\d.]+)ms/.exec(directive);
      const secs = time ? ` ${(Number(time[1]) / 1000).toFixed(1)}s` : '';
      if (verdict === 'not ok') {
        failedFiles.push(name);
        clear();
        write(`${[...block, line].join('\n')}\n\n`);
      }
      const mark = verdict === 'ok' ? (/\bSKIP\b/i.test(directive) ? 'skip' : 'ok  ') : 'FAIL';
      if (tty) {
        clear();
        write(`[${files}] ${failedFiles.length} failed  ${mark} ${name}${secs}`);
        progress = true;
      } else {
        write(`${mark} ${name}${secs}\n`);
      }
      block = [];
      continue;
    }
    const m = /^# \{ total: (\d+)(.*)\}$/.exec(line);
    if (m !== null) {
      const field = (n) => Number(new RegExp(`${n}: (\\d+)`).exec(m[2])?.[1] ?? 0);
      totals = { pass: field('pass'), fail: field('fail'), skip: field('skip') + field('todo') };
      continue;
    }
    block.push(line);
  }
  clear();
  // Whatever came after the last file (a crash of the runner itself) is kept.
  const rest = block.filter((l) => l.trim() !== '' && !/^(TAP version|1\.\.\d+|# (No coverage generated|time=))/.test(l));
  if (rest.length > 0) write(`${rest.join('\n')}\n`);
  if (failedFiles.length > 0) write(`\nfailed: ${failedFiles.join(', ')}\n`);
  return { ...(totals ?? { pass: 0, fail: 0, skip: 0 }), files, failedFiles, complete: totals !== undefined };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await summarize(process.stdin, (s) => process.stdout.write(s), { tty: process.argv.includes('--tty') });
  // A stream that stops before its totals (a crash) counts as a failure.
  const fail = r.complete ? r.fail : Math.max(1, r.fail);
  process.stdout.write(`\n${r.pass} passed, ${fail} failed${r.skip ? `, ${r.skip} skipped` : ''}\n`);
  process.exit(fail > 0 ? 1 : 0);
}
