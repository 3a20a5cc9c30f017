import net from 'node:net';
import http from 'node:http';

/**
 * One readiness attempt against a published port. Resolves true when ready.
 *
 * TCP: a published port is served by Docker's userland proxy, which accepts
 * every connection and only then dials the container; when nothing listens
 * inside, it closes the accepted connection at once. So "connected" alone
 * proves nothing: the probe counts a connection as ready only if the far end
 * keeps it open for `settleMs`.
 *
 * HTTP: `GET path` answered with a 2xx or 3xx status.
 */
export function probeOnce(
  type: 'tcp' | 'http', host: string, port: number, path: string, timeoutMs: number, settleMs = 150,
): Promise<boolean> {
  return type === 'tcp' ? probeTcp(host, port, timeoutMs, settleMs) : probeHttp(host, port, path, timeoutMs);
}

function probeTcp(host: string, port: number, timeoutMs: number, settleMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const sock = net.connect({ host, port });
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('error', () => finish(false));
    sock.on('end', () => finish(false));
    sock.on('close', () => finish(false));
    // Data means something answered: ready.
    sock.on('data', () => finish(true));
    sock.on('connect', () => {
      clearTimeout(timer);
      setTimeout(() => finish(true), settleMs);
    });
  });
}

function probeHttp(host: string, port: number, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      req.destroy();
      resolve(ok);
    };
    const req = http.request({ host, port, path, method: 'GET', agent: false, timeout: timeoutMs, headers: { 'user-agent': 'upshift-readiness' } }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      finish(status >= 200 && status < 400);
    });
    req.on('timeout', () => finish(false));
    req.on('error', () => finish(false));
    req.end();
  });
}
