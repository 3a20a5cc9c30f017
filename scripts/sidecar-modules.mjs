#!/usr/bin/env node
// The packages the sidecar needs at run time, from package-lock.json: the
// production dependencies and the optional peer dependency dockerode with
// everything it depends on (the sidecar image always runs containers;
// library users install neither). Read from the lock, not node_modules, so
// it is the same in a clone, a worktree with a linked node_modules, or a
// Docker build.
//
//   node scripts/sidecar-modules.mjs          prints their node_modules paths, one a line
//   node scripts/sidecar-modules.mjs --prune  deletes every other package from ./node_modules
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
const packages = lock.packages;
const SIDECAR_PEERS = ['dockerode'];

/** Node's lookup: `name` seen from the package at `from` (nearest node_modules up the tree). */
function resolve(from, name) {
  for (let dir = from; ; ) {
    const at = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[at] !== undefined) return at;
    if (dir === '') return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i === -1 ? '' : dir.slice(0, i);
  }
}

const keep = new Set();
const queue = [...Object.keys(packages['']?.dependencies ?? {}), ...SIDECAR_PEERS].map((n) => resolve('', n));
while (queue.length > 0) {
  const at = queue.pop();
  if (at === undefined || keep.has(at)) continue;
  keep.add(at);
  const p = packages[at];
  for (const n of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) queue.push(resolve(at, n));
}

if (process.argv.includes('--prune')) {
  for (const at of Object.keys(packages)) {
    if (at !== '' && at.startsWith('node_modules/') && !keep.has(at) && existsSync(path.join(root, at))) rmSync(path.join(root, at), { recursive: true, force: true });
  }
  rmSync(path.join(root, 'node_modules/.bin'), { recursive: true, force: true });
} else {
  for (const at of [...keep].sort()) console.log(at);
}
