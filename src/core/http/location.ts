/**
 * `Location`, `Content-Location` and `Refresh` that point at a backend's own
 * address (`http://127.0.0.1:18802/wp-admin/`) would send browsers around the
 * proxy, straight to a version's server. Like nginx's `proxy_redirect
 * default`, such a URL is rewritten to the address the client used (its
 * `Host`), scheme `http` (the client's connection to the proxy is plain
 * HTTP). Only an absolute or scheme-relative URL whose authority is one of
 * the serving version's servers changes: as configured (host name
 * case-insensitive, the scheme's default port when none is written), with
 * `localhost`, `127.0.0.1` and `[::1]` taken as one another. Anything else
 * (another site, a relative path) passes as it came.
 */

/** What a rewrite needs: the serving version's servers and the client's `Host`. */
export interface UrlRewrite {
  readonly servers: ReadonlyArray<{ readonly hostname: string; readonly port: number }>;
  readonly host: string;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const URL_RE = /^(?:(https?):)?\/\/([^/?#\\]*)([\s\S]*)$/i;
const REFRESH_RE = /^(\s*\d+(?:\.\d*)?\s*[;,]\s*(?:url\s*=\s*)?)(['"]?)(.*?)\2(\s*)$/i;

/** The rewrite for an answer of a version with `servers` to a client that sent `host`; null when off or without a Host. */
export function urlRewrite(on: boolean, servers: UrlRewrite['servers'], host: string | undefined): UrlRewrite | null {
  return on && host !== undefined && host !== '' && servers.length > 0 ? { servers, host } : null;
}

function sameHost(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x === y || (LOOPBACK.has(x) && LOOPBACK.has(y)) || x === `[${y}]` || y === `[${x}]`;
}

/** The URL pointed at the client's Host, or null when it is not one of the servers'. */
export function rewriteUrl(url: string, r: UrlRewrite): string | null {
  const m = URL_RE.exec(url);
  if (m === null) return null;
  const scheme = (m[1] ?? 'http').toLowerCase();
  const authority = m[2]!;
  if (authority.includes('@')) return null;
  let hostname = authority;
  let port = scheme === 'https' ? 443 : 80;
  const colon = authority.lastIndexOf(':');
  if (colon !== -1 && colon > authority.lastIndexOf(']')) {
    const p = authority.slice(colon + 1);
    if (!/^\d{1,5}$/.test(p)) return null;
    port = Number(p);
    hostname = authority.slice(0, colon);
  }
  for (const s of r.servers) {
    if (s.port === port && sameHost(s.hostname, hostname)) return `http://${r.host}${m[3]}`;
  }
  return null;
}

/**
 * The new value of a field named `lower` (lower case) with `value`, or null
 * when it stays. `Refresh` (`5; url=...`) has its URL part rewritten.
 */
export function rewriteUrlField(lower: string, value: string, r: UrlRewrite): string | null {
  if (lower === 'location' || lower === 'content-location') return rewriteUrl(value, r);
  if (lower !== 'refresh') return null;
  const m = REFRESH_RE.exec(value);
  if (m === null || m[3] === '') return null;
  const url = rewriteUrl(m[3]!, r);
  return url === null ? null : `${m[1]}${m[2]}${url}${m[2]}${m[4]}`;
}

/**
 * `lines` (status line first, as `headLines` makes them) with the URL fields
 * rewritten in place; true when one changed.
 */
export function rewriteUrlLines(lines: string[], r: UrlRewrite): boolean {
  let changed = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon !== 7 && colon !== 8 && colon !== 16) continue;
    const name = line.slice(0, colon);
    const lower = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    const out = rewriteUrlField(lower, value, r);
    if (out === null) continue;
    lines[i] = `${name}: ${out}`;
    changed = true;
  }
  return changed;
}
