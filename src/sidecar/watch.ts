import { call, type ApiTarget } from './client.js';

/** What `upshift watch` reads of `/status` (the fields it shows; others are ignored). */
interface WatchStatus {
  address: { host: string; port: number };
  connections: number;
  versions: Array<{
    uuid: string; version: string; mode: string; state: string; newest: boolean; share: number; percentage?: number;
    open: number; requests: number; errors: number;
    sessions?: number | { count: number };
    judgement?: { verdict: string; window?: { p99FirstByteMs?: number } };
    rolledBack?: { reason: string };
    servers: Array<{ hostname: string; port: number; healthy: boolean; state?: string }>;
    launch?: { state: string; message?: string };
  }>;
  events?: Array<{ at: string; text: string }>;
}

/** Counters of the previous frame, to turn totals into rates. */
export interface Sample {
  at: number;
  byUuid: Map<string, { requests: number; errors: number }>;
}

export interface RenderOptions {
  /** ANSI colours (a terminal without NO_COLOR). */
  color: boolean;
  /** Wall clock of this frame (ms), and of the previous frame's sample. */
  now: number;
  previous: Sample | undefined;
  /** How many of the last events to show. */
  events: number;
}

const COLORS: Record<string, string> = { up: '32', healthy: '32', pass: '32', promoted: '32', down: '31', ejected: '31', fail: '31', 'rolled-back': '33', probing: '33', draining: '2' };

function paint(on: boolean, word: string, key = word): string {
  const c = COLORS[key];
  return on && c !== undefined ? `\x1b[${c}m${word}\x1b[0m` : word;
}

function bar(share: number): string {
  const n = Math.round(Math.max(0, Math.min(100, share)) / 10);
  return `[${'#'.repeat(n)}${'.'.repeat(10 - n)}]`;
}

const pct = (n: number): string => `${Math.round(n * 10) / 10}%`;
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/**
 * One frame of `upshift watch`: a line about the proxy, a row per version
 * (requests/s and the error share since the previous frame), the last
 * events. Pure: the same status and sample give the same lines.
 */
export function renderWatch(s: WatchStatus, o: RenderOptions): { lines: string[]; sample: Sample } {
  const dt = o.previous === undefined ? 0 : (o.now - o.previous.at) / 1000;
  const rows = [['VERSION', 'UUID', 'MODE', 'STATE', 'SHARE', 'REQ/S', 'ERRORS', 'P99', 'SESSIONS', 'OPEN', 'VERDICT', 'SERVERS']];
  for (const v of s.versions) {
    const p = o.previous?.byUuid.get(v.uuid);
    const dr = p === undefined ? 0 : Math.max(0, v.requests - p.requests);
    const de = p === undefined ? 0 : Math.max(0, v.errors - p.errors);
    const rps = p === undefined || dt <= 0 ? '-' : (dr / dt).toFixed(1);
    const err = dr > 0 ? pct((de / dr) * 100) : v.requests > 0 ? `${pct((v.errors / v.requests) * 100)} all` : '-';
    const p99 = v.judgement?.window?.p99FirstByteMs;
    const sessions = v.sessions === undefined ? '-' : String(typeof v.sessions === 'number' ? v.sessions : v.sessions.count);
    const state = v.state + (v.rolledBack ? ` (${v.rolledBack.reason})` : '');
    const servers = (v.launch ? `${v.launch.state}${v.launch.message ? ` (${v.launch.message})` : ''} ` : '')
      + v.servers.map((x) => `${x.hostname}:${x.port} ${x.state ?? (x.healthy ? 'healthy' : 'ejected')}`).join(', ');
    rows.push([
      v.version + (v.newest ? ' *' : ''), v.uuid, v.mode + (v.percentage !== undefined ? ` ${pct(v.percentage)}` : ''), state,
      `${bar(v.share)} ${pct(v.share)}`, rps, err, p99 === undefined ? '-' : `${Math.round(p99)} ms`, sessions, String(v.open),
      v.judgement?.verdict ?? '-', servers || '(none)',
    ]);
  }
  const lines = columns(rows, o.color);
  const head = `upshift ${clock(o.now)}  proxy ${s.address.host}:${s.address.port}  ${s.connections} open connection(s)  ${s.versions.length} version(s)`;
  const out = [o.color ? `\x1b[1m${head}\x1b[0m` : head, ...lines];
  const events = (s.events ?? []).slice(-o.events);
  if (events.length > 0) {
    out.push('last events:');
    for (const e of events) out.push(`  ${e.at.slice(11, 19)}  ${e.text}`);
  }
  const byUuid = new Map(s.versions.map((v) => [v.uuid, { requests: v.requests, errors: v.errors }]));
  return { lines: out, sample: { at: o.now, byUuid } };
}

/** Left-aligned columns, as `table` lays them out; colour is added to padded cells, so escape codes take no width. */
function columns(rows: string[][], color: boolean): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return rows.map((r, row) => r.map((c, i) => {
    const cell = i === r.length - 1 ? c : c.padEnd(widths[i]!);
    if (!color) return cell;
    if (row === 0) return `\x1b[1m${cell}\x1b[0m`;
    if (i === 3 || i === 10) return paint(true, cell, c.split(' ')[0]);
    if (i === 11) return cell.replace(/\b(healthy|ejected|probing)\b/g, (w) => paint(true, w));
    return cell;
  }).join('  '));
}

export interface WatchOptions {
  /** Seconds between frames. */
  interval: number;
  /** Stop after this many frames (undefined: until Ctrl-C). */
  count: number | undefined;
  out: NodeJS.WriteStream;
}

/**
 * `upshift watch`: on a terminal, each frame redraws the screen in place;
 * otherwise frames are plain lines, one block per frame, a blank line
 * between. A failing call is shown and retried at the next interval; only a
 * first call that fails ends the command (nothing to watch).
 */
export async function watch(target: ApiTarget, o: WatchOptions): Promise<void> {
  const tty = o.out.isTTY === true;
  const color = tty && process.env['NO_COLOR'] === undefined;
  let previous: Sample | undefined;
  let frames = 0;
  let ok = false;
  if (tty) {
    // The cursor is hidden while frames redraw, shown again however the command ends; the last frame stays on screen.
    o.out.write('\x1b[?25l');
    const restore = (): void => { o.out.write('\x1b[?25h'); };
    process.once('exit', restore);
    process.once('SIGINT', () => process.exit(0));
  }
  for (;;) {
    let text: string;
    try {
      const { data } = await call(target, 'GET', '/status');
      const frame = renderWatch(data as WatchStatus, { color, now: Date.now(), previous, events: 8 });
      previous = frame.sample;
      ok = true;
      text = frame.lines.join('\n');
    } catch (err) {
      if (!ok) throw err;
      text = `upshift ${clock(Date.now())}  ${(err as Error).message}`;
    }
    o.out.write(tty ? `\x1b[H\x1b[2J${text}\n` : `${frames > 0 ? '\n' : ''}${text}\n`);
    frames += 1;
    if (o.count !== undefined && frames >= o.count) return;
    await new Promise((r) => setTimeout(r, o.interval * 1000));
  }
}
