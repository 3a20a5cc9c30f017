import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// What `npm pack` ships: the build, its declarations, README and LICENSE;
// nothing that points at files it does not ship; and dependencies a
// library user of createProxy needs, without the sidecar's Docker client.
const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));

t.test('npm pack ships the build, README and LICENSE, and no source maps', async (t) => {
  // --ignore-scripts: `prepare` would rebuild dist/ under the other tests' feet.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
  for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/core/index.js', 'dist/core/index.d.ts', 'dist/sidecar/index.js', 'dist/sidecar/bin.js']) {
    t.ok(files.includes(f), `ships ${f}`);
  }
  t.same(files.filter((f) => f.endsWith('.map')), [], 'no source maps (they would point at src/, which is not shipped)');
  t.same(files.filter((f) => !/^(dist\/|package\.json$|README\.md$|LICENSE$|native-notes\.md$)/.test(f)), [], 'nothing else: no src/, test/, bench/');
  const js = files.filter((f) => f.endsWith('.js'));
  t.same(js.filter((f) => readFileSync(`${root}/${f}`, 'utf8').includes('sourceMappingURL')), [], 'no file refers to a map');
  for (const target of [pkg.main, pkg.types, pkg.bin.upshift, ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e as object)))]) {
    t.ok(files.includes(String(target).replace(/^\.\//, '')), `package.json points at a shipped file: ${target}`);
  }
});

t.test('LICENSE is MIT, as package.json says', async (t) => {
  const text = readFileSync(`${root}/LICENSE`, 'utf8');
  t.equal(pkg.license, 'MIT');
  t.match(text, /^MIT License\n\nCopyright \(c\) \d{4} upshift contributors\n/);
});

t.test('the library needs no Docker client; the sidecar loads it on demand', async (t) => {
  t.notOk('dockerode' in pkg.dependencies, 'dockerode is not a dependency');
  t.equal(pkg.peerDependencies.dockerode, pkg.devDependencies.dockerode, 'it is a peer dependency, the version a clone tests with');
  t.same(pkg.peerDependenciesMeta.dockerode, { optional: true }, 'an optional one');
  const imports = (dir: string): string[] => {
    const found = execFileSync('grep', ['-rhoE', `(from|import\\() ?'[^.'][^']*'`, dir, '--include=*.js'], { cwd: root, encoding: 'utf8' });
    return [...new Set(found.split('\n').filter(Boolean).map((l) => /'([^']+)'/.exec(l)![1]!).filter((m) => !m.startsWith('node:')))].sort();
  };
  const core = imports('dist/core');
  t.ok(core.length > 0);
  for (const m of core) t.ok(m in pkg.dependencies, `the core's import ${m} is a dependency`);
  const statics = execFileSync('grep', ['-rlE', `^import .*'dockerode'`, 'dist/sidecar', '--include=*.js'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  t.same(statics, ['dist/sidecar/docker/launcher.js'], 'only the Docker launcher imports dockerode, and it is loaded on demand');
  t.match(readFileSync(`${root}/dist/sidecar/docker-loader.js`, 'utf8'), /await import\('\.\/docker\/index\.js'\)/);
});

t.test('the README says the package is ESM for Node 20 or later', async (t) => {
  t.equal(pkg.type, 'module');
  t.equal(pkg.engines.node, '>=20');
  t.match(readFileSync(`${root}/README.md`, 'utf8'), /ES module.*Node\.js 20 or later/);
});
