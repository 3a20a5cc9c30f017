/**
 * Cookie reading and `Set-Cookie` writing for the routing cookies.
 *
 * Reading follows RFC 6265 §5.4 as an origin server parses it: the Cookie
 * header is a `; `-separated list of `name=value` pairs; names match exactly
 * (case-sensitive, whole token: `xroute` and `ROUTE` are not `route`); when a
 * name appears more than once (in one header or over several Cookie lines,
 * which servers join in order) the first one wins.
 */

/** Returns the value of the first cookie called exactly `name`, or undefined. */
export function readCookie(cookieHeaders: readonly string[], name: string): string | undefined {
  for (const header of cookieHeaders) {
    let start = 0;
    while (start <= header.length) {
      let end = header.indexOf(';', start);
      if (end === -1) end = header.length;
      const eq = header.indexOf('=', start);
      if (eq !== -1 && eq < end) {
        const key = header.slice(start, eq).trim();
        if (key === name) {
          let value = header.slice(eq + 1, end).trim();
          // RFC 6265: cookie-value may be wrapped in DQUOTEs.
          if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) {
            value = value.slice(1, -1);
          }
          return value;
        }
      }
      start = end + 1;
    }
  }
  return undefined;
}

export type SameSite = 'Strict' | 'Lax' | 'None';

/** How a routing cookie is written. */
export interface CookieOptions {
  /** Cookie name. */
  name: string;
  /** `Path` attribute. Default `/`. */
  path: string;
  /** `Domain` attribute; omitted when undefined (host-only cookie). */
  domain: string | undefined;
  /** Add `Secure` (only sent over HTTPS). Default false. */
  secure: boolean;
  /** Add `HttpOnly`. Default true. */
  httpOnly: boolean;
  /** `SameSite` attribute. Default Lax. */
  sameSite: SameSite;
}

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// cookie-octet of RFC 6265 §4.1.1: no CTLs, whitespace, DQUOTE, comma, semicolon or backslash.
const COOKIE_VALUE_RE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
const ATTR_VALUE_RE = /^[\x20-\x3A\x3C-\x7E]*$/;

export function isCookieName(name: string): boolean {
  return TOKEN_RE.test(name);
}

export function isCookieValue(value: string): boolean {
  return COOKIE_VALUE_RE.test(value);
}

export function isCookieAttributeValue(value: string): boolean {
  return ATTR_VALUE_RE.test(value);
}

/**
 * Builds one `Set-Cookie: ...\r\n` header line (CRLF included).
 * `maxAge` in seconds; when given, `Expires` is written too (in GMT, for
 * clients that predate Max-Age). Without it the cookie lasts the browser session.
 */
export function setCookieLine(opts: CookieOptions, value: string, maxAge: number | undefined, now = Date.now()): string {
  return `Set-Cookie: ${opts.name}=${value}${attributes(opts, maxAge, now)}\r\n`;
}

interface Attributes {
  readonly opts: CookieOptions;
  readonly maxAge: number | undefined;
  readonly expires: number;
  readonly text: string;
}

// A cookie's attributes change only with its Expires second: they are written once per second, not once per answer.
// The options are compared field by field, as a caller may change its object between calls.
const written = new WeakMap<CookieOptions, Attributes>();

function attributes(opts: CookieOptions, maxAge: number | undefined, now: number): string {
  const expires = maxAge === undefined ? 0 : Math.floor((now + maxAge * 1000) / 1000);
  const last = written.get(opts);
  if (last !== undefined && last.maxAge === maxAge && last.expires === expires && sameOptions(last.opts, opts)) return last.text;
  let text = '';
  if (maxAge !== undefined) text += `; Max-Age=${Math.floor(maxAge)}; Expires=${httpDate(now + maxAge * 1000)}`;
  text += `; Path=${opts.path}`;
  if (opts.domain !== undefined) text += `; Domain=${opts.domain}`;
  if (opts.secure) text += '; Secure';
  if (opts.httpOnly) text += '; HttpOnly';
  text += `; SameSite=${opts.sameSite}`;
  written.set(opts, { opts: { ...opts }, maxAge, expires, text });
  return text;
}

function sameOptions(a: CookieOptions, b: CookieOptions): boolean {
  return a.path === b.path && a.domain === b.domain && a.secure === b.secure && a.httpOnly === b.httpOnly && a.sameSite === b.sameSite;
}

// Formatting a date costs microseconds and every answer may set a cookie: the last one is kept (it has whole seconds only).
let dateSecond = -1;
let dateText = '';

function httpDate(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/** A `Set-Cookie` line (name: value, no CRLF needed) that sets one of `names`: the proxy owns those. */
export function isOwnSetCookie(line: string, names: readonly string[]): boolean {
  const colon = line.indexOf(':');
  if (colon !== 10 || line.slice(0, colon).toLowerCase() !== 'set-cookie') return false;
  const value = line.slice(colon + 1).trimStart();
  const eq = value.indexOf('=');
  if (eq === -1) return false;
  return names.includes(value.slice(0, eq).trim());
}
