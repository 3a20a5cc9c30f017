/**
 * Rewrites the first final response head to carry the routing cookies.
 *
 * Our `Set-Cookie` lines go right after the status line: whatever line
 * endings the backend used further down, that spot is unambiguous, and it
 * can never fall inside a body. When we set a cookie, a backend `Set-Cookie`
 * with the same name is dropped: the proxy owns its routing cookies, and a
 * response that set one name twice would leave the winner to the browser.
 * Interim (1xx) heads before it pass through untouched.
 */
export function injectCookies(
  buf: Buffer,
  headStart: number,
  headEnd: number,
  lines: readonly string[],
  ownNames: readonly string[],
): Buffer {
  const statusEnd = buf.indexOf(0x0a, headStart);
  if (statusEnd === -1 || statusEnd >= headEnd) return buf;
  const insert = Buffer.from(lines.join(''), 'latin1');
  const rest = stripOwnCookies(buf.subarray(statusEnd + 1, headEnd), ownNames);
  return Buffer.concat([buf.subarray(0, statusEnd + 1), insert, rest, buf.subarray(headEnd)]);
}

function stripOwnCookies(fields: Buffer, names: readonly string[]): Buffer {
  if (names.length === 0) return fields;
  const text = fields.toString('latin1');
  if (!/set-cookie/i.test(text)) return fields;
  const out: string[] = [];
  let start = 0;
  let changed = false;
  while (start < text.length) {
    let nl = text.indexOf('\n', start);
    if (nl === -1) nl = text.length - 1;
    const line = text.slice(start, nl + 1);
    if (isOwnSetCookie(line, names)) changed = true;
    else out.push(line);
    start = nl + 1;
  }
  return changed ? Buffer.from(out.join(''), 'latin1') : fields;
}

function isOwnSetCookie(line: string, names: readonly string[]): boolean {
  const colon = line.indexOf(':');
  if (colon !== 10 || line.slice(0, colon).toLowerCase() !== 'set-cookie') return false;
  const value = line.slice(colon + 1).trimStart();
  const eq = value.indexOf('=');
  if (eq === -1) return false;
  const name = value.slice(0, eq).trim();
  return names.includes(name);
}
