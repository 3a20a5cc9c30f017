import type { IncomingHttpHeaders } from 'node:http';

/**
 * A browser makes the config API reachable from any page its user opens.
 * A page elsewhere can POST to `http://127.0.0.1:9090/...` (a bodiless POST
 * needs no CORS preflight: it is sent, only its answer is hidden), or point
 * its own name at 127.0.0.1 (DNS rebinding) and read `/status` as same-origin.
 * Browsers say where a request comes from (`Sec-Fetch-Site`, `Origin`); one
 * from another site is refused; a rebound name by its `Host` (below).
 * Programs (curl, the CLI) send no Origin and use an address or localhost.
 *
 * Returns why the request is refused, or undefined.
 */
export function crossSiteRefusal(headers: IncomingHttpHeaders, opts: { listenHost: string; token: boolean }): string | undefined {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `a ${site} browser request (Sec-Fetch-Site: ${site})`;
  const from = headers.origin;
  const host = headers.host;
  if (from !== undefined && from !== `http://${host}` && from !== `https://${host}`) return `a browser request from ${from}`;
  // A rebound page is same-origin to its browser, and over plain http the
  // browser sends neither Origin nor Sec-Fetch-Site: only Host gives it away.
  // Rebinding needs a domain name the attacker controls, so a dotted name
  // other than an address or *.localhost is refused, from any client.
  if (!opts.token && host !== undefined && isLoopback(opts.listenHost) && isForeignName(hostname(host))) {
    return `Host ${JSON.stringify(host)} is not this machine's address (the API listens on ${opts.listenHost} without a token; use 127.0.0.1 or localhost)`;
  }
  return undefined;
}

/** The name part of a Host header: `[::1]:9090` → `::1`, `localhost:9090` → `localhost`. */
function hostname(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']') === -1 ? undefined : host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

function isForeignName(name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  return n.includes('.') && !isLoopback(n) && !/^\d{1,3}(\.\d{1,3}){3}$/.test(n);
}

function isLoopback(name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  return n === 'localhost' || n.endsWith('.localhost') || n === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(n);
}
