#!/usr/bin/env node
// Memory per idle client connection, in each connection mode: upshift (the
// built library, dist/) in a process of its own; N keep-alive client
// connections each complete one request through it and then stay open and
// silent. The figure is (after − before) ÷ N, read in the proxy's process
// after a full GC, for RSS and for the V8 heap (plus `external`: Buffers and
// other memory outside the heap that JS objects hold). The target is 32 KiB.
//
//   npm run bench:idle-memory                       2000 connections, both modes and the uws engine
//   node bench/idle-memory.mjs --connections 5000 --modes http,uws
//   node bench/idle-memory.mjs --snapshot           also heap snapshots before/after,
//                                                   and what grew, by constructor
//   node bench/idle-memory.mjs --json               one JSON line per mode
//
// The clients (bench/lib/idle.mjs) and the backend (bench/lib/backend-node.mjs)
// run in processes of their own, so their memory is not counted.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { start, stop, waitLine, sleep } from './lib/proc.mjs';

const here = import.meta.dirname;
const { values: argv } = parseArgs({
  options: {
    connections: { type: 'string', default: '2000' },
    modes: { type: 'string', default: 'stream,http,uws' },
    warmup: { type: 'string', default: '200' },
    snapshot: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    dist: { type: 'string' },
  },
});
const N = Number(argv.connections);
const WARMUP = Number(argv.warmup);
const TARGET_KIB = 32;
const dist = path.resolve(argv.dist ?? path.join(here, '..', 'dist'));
if (!fs.existsSync(path.join(dist, 'core/index.js'))) {
  console.error(`no build in ${dist}: run npm run build first`);
  process.exit(1);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'upshift-idle-memory-'));

const backend = start(process.execPath, [path.join(here, 'lib/backend-node.mjs')]);
const backendPort = Number((await waitLine(backend, /PORT (\d+)/))[1]);
const results = [];
// `uws`: http mode on the uWebSockets.js engine, an optional dependency: measured when a build of it loads.
const KIND = { stream: 'upshift', http: 'upshift-http', uws: 'upshift-uws' };
try {
  for (const mode of argv.modes.split(',')) {
    if (!(mode in KIND)) throw new Error(`unknown mode ${mode} (stream, http, uws)`);
    if (mode === 'uws' && !(await uwsLoads())) {
      console.log('uws: no uWebSockets.js build loads here; skipped');
      continue;
    }
    results.push(await measure(mode));
  }
} finally {
  await stop(backend);
  fs.rmSync(tmp, { recursive: true, force: true });
}
if (!argv.json) {
  console.log(`\n${N} idle keep-alive connections, one completed request each; per connection, after a full GC (target ≤ ${TARGET_KIB} KiB):`);
  console.log('| mode | RSS KiB/conn | heap KiB/conn | external KiB/conn | open | failed |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.mode} | ${r.rssKiB.toFixed(1)} | ${r.heapKiB.toFixed(1)} | ${r.externalKiB.toFixed(1)} | ${r.open} | ${r.failed} |`);
  }
}

async function uwsLoads() {
  const { loadUws } = await import(pathToFileURL(path.join(dist, 'core/engine/uws/load.js')).href);
  try {
    loadUws();
    return true;
  } catch {
    return false;
  }
}

async function measure(mode) {
  const proxy = fork(path.join(here, 'lib/proxy-child.mjs'), [KIND[mode], String(backendPort), dist], {
    execArgv: ['--expose-gc'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  proxy.stderrText = '';
  let nextId = 1;
  const call = (op, args = {}) => new Promise((resolve) => {
    const id = nextId++;
    const on = (m) => {
      if (m.id !== id) return;
      proxy.off('message', on);
      resolve(m);
    };
    proxy.on('message', on);
    proxy.send({ id, op, ...args });
  });
  const proxyPort = Number((await waitLine(proxy, /PORT (\d+)/))[1]);
  try {
    // Warm-up: the code paths compiled, the pools and slabs allocated once.
    await hold(proxyPort, WARMUP, async () => {});
    await sleep(500);
    const before = await call('usage');
    let after;
    const { ok, failed } = await hold(proxyPort, N, async () => {
      await sleep(1000);
      after = await call('usage');
    });
    const per = (k) => (ok > 0 ? (after[k] - before[k]) / ok / 1024 : NaN);
    const r = { mode, connections: N, open: ok, failed, rssKiB: per('rss'), heapKiB: per('heapUsed'), externalKiB: per('external'), targetKiB: TARGET_KIB };
    if (argv.json) console.log(JSON.stringify(r));
    else console.log(`${mode}: RSS ${(before.rss / 2 ** 20).toFixed(1)} → ${(after.rss / 2 ** 20).toFixed(1)} MiB, heap ${(before.heapUsed / 2 ** 20).toFixed(1)} → ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB with ${ok} idle connections (${failed} failed)`);
    if (argv.snapshot) {
      // A second pass: taking a snapshot grows the process's RSS, so it must not fall between the readings above.
      await sleep(500);
      const snapBefore = (await call('snapshot', { file: path.join(tmp, `${mode}-before.heapsnapshot`) })).file;
      let snapAfter;
      const again = await hold(proxyPort, N, async () => {
        await sleep(1000);
        snapAfter = (await call('snapshot', { file: path.join(tmp, `${mode}-after.heapsnapshot`) })).file;
      });
      printGrowth(mode, snapBefore, snapAfter, again.ok);
    }
    return r;
  } finally {
    proxy.disconnect();
    await stop(proxy);
  }
}

/** Opens `count` idle connections (one request each), runs `whileOpen`, then closes them. */
async function hold(port, count, whileOpen) {
  const client = start(process.execPath, [path.join(here, 'lib/idle.mjs'), String(port), String(count)], { stdin: 'pipe' });
  try {
    const m = await waitLine(client, /READY (\d+) (\d+)/, 120_000);
    await whileOpen();
    return { ok: Number(m[1]), failed: Number(m[2]) };
  } finally {
    client.stdin.end();
    await stop(client);
  }
}

/** What the heap gained between two snapshots, by node type and constructor name, largest first. */
function printGrowth(mode, beforeFile, afterFile, conns) {
  const a = tally(beforeFile);
  const b = tally(afterFile);
  const rows = [];
  for (const [key, x] of b) {
    const y = a.get(key) ?? { count: 0, size: 0 };
    if (x.size - y.size > 0) rows.push({ key, count: x.count - y.count, size: x.size - y.size });
  }
  rows.sort((p, q) => q.size - p.size);
  console.log(`${mode}: heap growth per connection by constructor (self sizes, top 20):`);
  for (const r of rows.slice(0, 20)) {
    console.log(`  ${(r.size / conns).toFixed(0).padStart(6)} B  ${(r.count / conns).toFixed(2).padStart(6)} ×  ${r.key}`);
  }
}

function tally(file) {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((k) => f.indexOf(k));
  const out = new Map();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const type = types[snap.nodes[i + iType]];
    const name = type === 'object' || type === 'closure' || type === 'native' ? snap.strings[snap.nodes[i + iName]] : `(${type})`;
    const key = `${type}:${name}`;
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += snap.nodes[i + iSize];
    out.set(key, e);
  }
  return out;
}
