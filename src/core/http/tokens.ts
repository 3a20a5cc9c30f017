/**
 * The token rules every head parser and rewriter shares (RFC 9110 §5.6.2,
 * §7.6.1, §8.6): one table, one list of hop-by-hop names, one Content-Length reader.
 */

/** tchar of RFC 9110 §5.6.2, by byte. */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/**
 * Field names that only concern one connection (RFC 9110 §7.6.1, plus the
 * pre-standard Proxy-Connection and HTTP2-Settings of h2c upgrades).
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set<string>(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'http2-settings']);

/**
 * Never stripped even when `Connection` names them: listing Content-Length or
 * Transfer-Encoding there would otherwise make us change the message's
 * framing (or drop Host), which is a smuggling primitive, not a hop option.
 */
const END_TO_END = new Set(['content-length', 'transfer-encoding', 'host']);

/** Splits a Connection value into lowercase tokens. */
export function connectionTokens(value: string): string[] {
  const out: string[] = [];
  for (const t of value.split(',')) {
    const v = t.trim().toLowerCase();
    if (v !== '') out.push(v);
  }
  return out;
}

/**
 * Whether the comma-separated `list` has `token` (lowercase) as one of its
 * elements, each taken without the white space `String.prototype.trim`
 * removes (within latin1: HTAB, SP, NBSP): `connectionTokens(list).includes(token)`
 * for a lowercase list, without making the array (it runs once per request head).
 */
export function hasToken(list: string, token: string): boolean {
  let start = 0;
  for (;;) {
    const comma = list.indexOf(',', start);
    let a = start;
    let b = comma === -1 ? list.length : comma;
    while (a < b && isTrimmed(list.charCodeAt(a))) a++;
    while (b > a && isTrimmed(list.charCodeAt(b - 1))) b--;
    if (b - a === token.length && list.startsWith(token, a)) return true;
    if (comma === -1) return false;
    start = comma + 1;
  }
}

const isTrimmed = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0xa0;

/** True when a field of this (lowercase) name is removed before forwarding. */
export function hop(lower: string, listed: readonly string[] | null): boolean {
  if (HOP_BY_HOP.has(lower)) return true;
  return listed !== null && listed.includes(lower) && !END_TO_END.has(lower);
}

/** True when `buf[at, at + name.length)` is `name` (lowercase ASCII) in any case. */
export function nameIs(buf: Buffer, at: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if ((buf[at + i]! | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

export const isOWS = (c: number | undefined): boolean => c === 0x20 || c === 0x09;

/** `s` without leading and trailing SP/HTAB (OWS). */
export function trimOWS(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return s.slice(a, b);
}

export const INVALID_LENGTH = -2;
export const CONFLICTING_LENGTH = -3;

/**
 * A Content-Length value, checked against an earlier one (`current`, -1 when
 * none): a list ("5, 5") counts only when every member is the same
 * (RFC 9110 §8.6). `INVALID_LENGTH` or `CONFLICTING_LENGTH` otherwise; the
 * caller names the error in its own terms (a bad request, a bad response).
 */
export function readContentLength(value: string, current: number): number {
  let result = current;
  for (const part of value.split(',')) {
    const v = trimOWS(part);
    if (v.length === 0 || v.length > 15 || !/^[0-9]+$/.test(v)) return INVALID_LENGTH;
    const n = Number(v);
    if (result !== -1 && result !== n) return CONFLICTING_LENGTH;
    result = n;
  }
  return result;
}
