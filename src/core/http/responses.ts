import { STATUS_CODES } from 'node:http';

const cache = new Map<number, Buffer>();

/**
 * A complete, self-framed error response that closes the connection,
 * with a short plain-text body saying what happened.
 */
export function errorResponse(status: number, detail?: string): Buffer {
  if (detail === undefined) {
    const hit = cache.get(status);
    if (hit !== undefined) return hit;
  }
  const reason = STATUS_CODES[status] ?? 'Error';
  const body = `${status} ${reason}${detail ? `: ${detail}` : ''}\n`;
  const buf = Buffer.from(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n${body}`,
    'latin1',
  );
  if (detail === undefined) cache.set(status, buf);
  return buf;
}
