// Writes a run's results: JSON (everything, every run), a Markdown summary
// and an SVG bar chart of the ratios to direct.
import fs from 'node:fs';
import path from 'node:path';

const NAMES = {
  direct: 'direct (no proxy)',
  upshift: 'upshift (stream mode)',
  'upshift-http': 'upshift (http mode)',
  'upshift-uws': 'upshift (http mode, uWebSockets.js engine)',
  'node-pipe': 'bare Node socket pipe',
  'http-proxy': 'node-http-proxy (keep-alive agent)',
  fastify: 'fastify + @fastify/reply-from',
  nginx: 'nginx (upstream keepalive)',
  'haproxy-http': 'HAProxy mode http',
  'haproxy-tcp': 'HAProxy mode tcp',
  'upshift-concurrent': 'upshift CONCURRENT, no comparison (stream mode)',
  'upshift-concurrent-compare': 'upshift CONCURRENT, answers compared (stream mode)',
  'upshift-http-concurrent': 'upshift CONCURRENT, no comparison (http mode)',
  'upshift-http-concurrent-compare': 'upshift CONCURRENT, answers compared (http mode)',
};

const nameOf = (t) => NAMES[t] ?? (t.startsWith('upshift-') ? `upshift, ${t.slice(8)}${isHttpBuild(t) ? ' (http mode)' : ''}` : t);

/** upshift-http and the variants named http… run the proxy in http mode. */
export const isHttpBuild = (t) => t.startsWith('upshift-http') || isUwsBuild(t);
/** upshift-uws and the variants named uws… run http mode on the uWebSockets.js engine. */
export const isUwsBuild = (t) => t.startsWith('upshift-uws');
const fmt = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
const us = (x) => (x === null || x === undefined ? '–' : x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${Math.round(x)} µs`);

export function writeReport(results, dir, label, name) {
  fs.mkdirSync(dir, { recursive: true });
  // Runs made before latency had several rates kept one object.
  if (results.latency && !Array.isArray(results.latency)) results.latency = [{ basis: 'direct', ...results.latency }];
  const stamp = name ?? results.date.slice(0, 16).replace(':', '-') + (results.profile === 'quick' ? '-quick' : '') + (label ? `-${label}` : '');
  const base = path.join(dir, stamp);
  results.targetsCheck = checkTargets(results);
  fs.writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(`${base}.md`, markdown(results, path.basename(base)));
  fs.writeFileSync(`${base}.svg`, svg(results));
  return [`${base}.json`, `${base}.md`, `${base}.svg`];
}

/** The issue's targets, judged on this run's medians, for upshift and each variant. */
export function checkTargets(r) {
  const out = [];
  const tp = (w) => r.throughput[`${w}/wrk`] ?? r.throughput[`${w}/autocannon`];
  const ka = tp('keepalive-50');
  const nc = tp('new-conn');
  const builds = new Set();
  for (const w of Object.values(r.throughput)) for (const t of Object.keys(w.targets)) if (t.startsWith('upshift')) builds.add(t);
  const lats = r.latency ?? [];
  for (const l of lats) for (const t of Object.keys(l.targets)) if (t.startsWith('upshift')) builds.add(t);
  for (const t of Object.keys(r.memory?.targets ?? {})) if (t.startsWith('upshift')) builds.add(t);
  for (const u of builds) {
    const who = u === 'upshift' ? '' : ` — ${nameOf(u)}`;
    if (ka?.targets[u] && ka.targets['node-pipe']) {
      const a = ka.targets[u].ratio;
      const b = ka.targets['node-pipe'].ratio;
      out.push({ target: `keep-alive ratio ≥ bare Node pipe’s${who}`, value: `${fmt(a, 2)} vs ${fmt(b, 2)}`, met: a >= b });
    }
    if (isHttpBuild(u)) {
      // http mode reuses upstream connections, so it is held to L7 peers' figures.
      if (nc?.targets[u] && nc.targets['node-pipe']) {
        const rr = pairedRatio(nc, u, 'node-pipe');
        const ng = nc.targets.nginx ? `; nginx ${fmt(pairedRatio(nc, 'nginx', 'node-pipe'), 2)}×` : '';
        out.push({ target: `new connection per request ≥ 1.5× bare pipe${who}`, value: `${fmt(rr, 2)}×${ng}`, met: rr >= 1.5 });
      }
      if (nc?.targets[u] && nc.targets.nginx) {
        const a = nc.targets[u].ratio;
        const b = nc.targets.nginx.ratio;
        out.push({ target: `new connection per request: ratio ≥ nginx’s${who}`, value: `${fmt(a, 2)} vs ${fmt(b, 2)}`, met: a >= b });
      }
      if (ka?.targets[u] && ka.targets.fastify) {
        const rr = pairedRatio(ka, u, 'fastify');
        out.push({ target: `keep-alive ≥ 3× fastify + reply-from${who}`, value: `${fmt(rr, 2)}×`, met: rr >= 3 });
      }
    } else {
      if (nc?.targets[u] && nc.targets['node-pipe']) {
        const rr = pairedRatio(nc, u, 'node-pipe');
        out.push({ target: `new connection per request ≥ 0.95× bare pipe${who}`, value: `${fmt(rr, 2)}×`, met: rr >= 0.95 });
      }
      if (ka?.targets[u] && ka.targets['http-proxy']) {
        const rr = pairedRatio(ka, u, 'http-proxy');
        out.push({ target: `≥ 5× node-http-proxy on keep-alive${who}`, value: `${fmt(rr, 1)}×`, met: rr >= 5 });
      }
    }
    for (const l of lats) {
      const lat = l.targets[u];
      if (lat && lat.addedP99 != null) {
        out.push({ target: `added p99 ≤ 1 ms at ${l.rate} req/s (half the ${l.basis === 'direct' ? 'direct' : 'bare pipe'} maximum)${who}`, value: us(lat.addedP99), met: lat.addedP99 <= 1000 });
      }
    }
    const mem = r.memory?.targets?.[u];
    if (mem && mem.kibPerConnection != null) out.push({ target: `≤ 32 KiB RSS per idle connection${who}`, value: `${fmt(mem.kibPerConnection, 1)} KiB`, met: mem.kibPerConnection <= 32 });
  }
  return out;
}

/** Median over rounds of a/b, both from the same round. */
function pairedRatio(w, a, b) {
  const ra = w.targets[a]?.runs ?? [];
  const rb = w.targets[b]?.runs ?? [];
  const xs = [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) if (ra[i].rps && rb[i].rps) xs.push(ra[i].rps / rb[i].rps);
  xs.sort((x, y) => x - y);
  if (!xs.length) return null;
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

function markdown(r, name) {
  const L = [];
  L.push(`# upshift benchmark ${name}`, '');
  L.push(`- ${r.profile} profile: ${r.rounds} rounds, ${r.seconds} s per run, targets alternating within each round (A B C … A B C …${r.rotated ? ', each round starting one target later' : ''}); medians over rounds.`);
  L.push(`- Load: ${r.tools.join(' and ')}; backend: ${r.backend}; pinning: ${r.pinning}.`);
  L.push(`- Machine: ${r.machine.cpus} × ${r.machine.model}, Node ${r.machine.node}, Linux ${r.machine.kernel}; load average at start ${r.machine.load.map((x) => x.toFixed(2)).join(' ')}.`);
  const build = (g) => (g?.commit ? `${g.commit}${g.note ? ` (${g.note})` : g.srcCoreDirty ? ' + uncommitted src/core changes' : ''}` : 'unknown commit');
  if (r.git?.upshift) {
    L.push(`- upshift built from ${build(r.git.upshift)}${Object.entries(r.git.variants ?? {}).map(([k, g]) => `; ${nameOf(k)} from ${build(g)}`).join('')}.`);
  } else if (r.git) {
    L.push(`- upshift from ${r.git.dist ?? 'dist/'}${Object.entries(r.git.variants ?? {}).map(([k, d]) => `; ${nameOf(k)} from ${d}`).join('')}.`);
  }
  L.push('- **ratio** = target req/s ÷ direct req/s in the same round (median of rounds). **CPU** = proxy user+system time per request from /proc/<pid>/stat. **RSS** at the end of the run.', '');
  if (r.targetsCheck?.length) {
    L.push('## Targets', '', '| target | measured | |', '|---|---|---|');
    for (const t of r.targetsCheck) L.push(`| ${t.target} | ${t.value} | ${t.met ? 'met' : '**missed**'} |`);
    L.push('');
  }
  L.push(...ratioTable(r));
  for (const w of Object.values(r.throughput)) {
    L.push(`## ${w.label} (${w.tool})`, '', '| target | req/s | ratio | CPU µs/req | RSS MiB | p50 | p99 | errors |', '|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const [t, x] of Object.entries(w.targets)) {
      L.push(`| ${nameOf(t)} | ${fmt(x.rps)} | ${fmt(x.ratio, 2)} | ${fmt(x.cpuPerReq, 1)} | ${fmt(x.rssMiB, 0)} | ${us(x.p50)} | ${us(x.p99)} | ${x.errors}${x.failedRuns ? ` (${x.failedRuns} runs failed)` : ''} |`);
    }
    L.push('');
  }
  for (const l of r.latency ?? []) {
    L.push(`## Latency at a fixed ${l.rate} req/s (half the ${l.basis === 'direct' ? 'direct' : 'bare Node pipe'} maximum), ${l.connections} keep-alive connections`, '');
    L.push('Paced client (bench/lib/paced.mjs), time from writing a request to its last response byte; "added" = target − direct in the same round. A target that cannot carry the rate queues, and its latency says so.', '');
    L.push('| target | p50 | p99 | added p50 | added p99 | achieved req/s | CPU µs/req |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const [t, x] of Object.entries(l.targets)) {
      L.push(`| ${nameOf(t)} | ${us(x.p50)} | ${us(x.p99)} | ${t === 'direct' ? '' : us(x.addedP50)} | ${t === 'direct' ? '' : us(x.addedP99)} | ${fmt(x.achievedRate)} | ${fmt(x.cpuPerReq, 1)} |`);
    }
    L.push('');
  }
  if (r.memory) {
    L.push(`## Memory with ${r.memory.connections} idle keep-alive connections`, '');
    L.push('A fresh process per proxy, warmed up; each connection made one request and stays open. Per connection = (RSS after − RSS before) ÷ connections.', '');
    L.push('| target | RSS before MiB | RSS after MiB | KiB per connection |', '|---|---:|---:|---:|');
    for (const [t, x] of Object.entries(r.memory.targets)) {
      if (x.failed) L.push(`| ${nameOf(t)} | failed: ${x.failed.replace(/\|/g, '/')} | | |`);
      else L.push(`| ${nameOf(t)} | ${fmt(x.beforeMiB, 1)} | ${fmt(x.afterMiB, 1)} | ${fmt(x.kibPerConnection, 1)}${x.failed ? ` (${x.failed} failed)` : ''} |`);
    }
    L.push('');
  }
  return L.join('\n') + '\n';
}

/** The headline: ratio to direct of both modes beside the bare pipe and the native peers, per workload. */
function ratioTable(r) {
  const cols = ['node-pipe', 'upshift', 'upshift-http', 'upshift-uws', 'nginx', 'haproxy-tcp', 'haproxy-http'];
  const rows = [['keep-alive', 'keepalive-50'], ['new connection per request', 'new-conn']]
    .map(([label, w]) => [label, r.throughput[`${w}/wrk`] ?? r.throughput[`${w}/autocannon`]])
    .filter(([, w]) => w);
  const present = cols.filter((c) => rows.some(([, w]) => w.targets[c]));
  if (!rows.length || !present.length) return [];
  const L = ['## Ratio to direct, same rounds (medians)', '', `| | ${present.map(nameOf).join(' | ')} |`, `|---|${present.map(() => '---:').join('|')}|`];
  for (const [label, w] of rows) L.push(`| ${label} | ${present.map((c) => fmt(w.targets[c]?.ratio, 2)).join(' | ')} |`);
  const lat = (r.latency ?? []).find((l) => l.basis === 'direct');
  if (lat) L.push(`| added p99 at ${lat.rate} req/s (half direct's max) | ${present.map((c) => us(lat.targets[c]?.addedP99)).join(' | ')} |`);
  const mem = r.memory?.targets;
  if (mem) L.push(`| RSS KiB per idle connection | ${present.map((c) => fmt(mem[c]?.kibPerConnection, 1)).join(' | ')} |`);
  L.push('');
  return L;
}

const COLORS = {
  upshift: '#d62728', 'upshift-http': '#9467bd', 'upshift-uws': '#17becf', 'node-pipe': '#ff9896', 'http-proxy': '#7f7f7f', fastify: '#bcbd22',
  nginx: '#2ca02c', 'haproxy-http': '#1f77b4', 'haproxy-tcp': '#aec7e8',
};

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Horizontal bars: one group per workload, one bar per proxy, length = ratio to direct. */
function svg(r) {
  const groups = Object.values(r.throughput);
  const variants = [...new Set(groups.flatMap((g) => Object.keys(g.targets)))].filter((n) => n.startsWith('upshift-'));
  const order = ['upshift', ...variants, ...Object.keys(COLORS).filter((n) => n !== 'upshift')];
  const names = order.filter((n) => groups.some((g) => g.targets[n]));
  const color = (n) => COLORS[n] ?? '#8c1d1d';
  const bar = 14;
  const gap = 18;
  const left = 250;
  const width = 820;
  const scaleW = width - left - 80;
  const maxRatio = Math.max(1, ...groups.flatMap((g) => names.map((n) => g.targets[n]?.ratio ?? 0)));
  const x = (v) => left + (v / maxRatio) * scaleW;
  let y = 50;
  const out = [];
  for (const g of groups) {
    out.push(`<text x="10" y="${y + 12}" font-weight="bold">${esc(g.label)} (${esc(g.tool)})</text>`);
    y += 20;
    for (const n of names) {
      const t = g.targets[n];
      if (!t) continue;
      const v = t.ratio ?? 0;
      out.push(`<text x="${left - 6}" y="${y + bar - 3}" text-anchor="end">${esc(nameOf(n))}</text>`);
      out.push(`<rect x="${left}" y="${y}" width="${Math.max(0, x(v) - left).toFixed(1)}" height="${bar}" fill="${color(n)}"/>`);
      out.push(`<text x="${(x(v) + 4).toFixed(1)}" y="${y + bar - 3}">${t.ratio == null ? 'failed' : v.toFixed(2)}</text>`);
      y += bar + 3;
    }
    y += gap;
  }
  const height = y + 20;
  const grid = [];
  for (let v = 0; v <= maxRatio + 1e-9; v += 0.25) {
    grid.push(`<line x1="${x(v).toFixed(1)}" y1="40" x2="${x(v).toFixed(1)}" y2="${height - 25}" stroke="${v === 1 ? '#000' : '#ddd'}" stroke-width="${v === 1 ? 1 : 0.5}"/>`);
    grid.push(`<text x="${x(v).toFixed(1)}" y="${height - 10}" text-anchor="middle" fill="#666">${v.toFixed(2)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="22" font-size="15" font-weight="bold">Requests per second relative to a direct connection (same round, median of ${r.rounds}); higher is better</text>
${grid.join('\n')}
${out.join('\n')}
</svg>
`;
}
