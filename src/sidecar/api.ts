import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { isValidVersionId, VersionNotFoundError } from '../core/index.js';
import { nearest, unknownName } from '../core/suggest.js';
import type { ClusterService } from './cluster-service.js';
import { crossSiteRefusal } from './cross-site.js';
import {
  BadBodyError, BodyTooLargeError, ConfigError, CrossSiteError, MethodNotAllowedError, PathNotFoundError, UnauthorizedError, restStatus,
} from './errors.js';
import { jsonErrorAt } from './json.js';
import { STATUS_PAGE } from './page/index.js';

export interface ApiOptions {
  host: string;
  port: number;
  token: string | undefined;
  bodyLimit: number;
}

const CLUSTERS = '/configuration/cluster';
const ID_PATH = /^\/configuration\/cluster\/([^/]+)$/;
/** An operator's judgement of a version: roll it back now, promote it (end the transition), resume judging it. */
const JUDGE_PATH = /^\/configuration\/cluster\/([^/]+)\/(rollback|promote|resume)$/;

/** Refused uploads are read and dropped up to this many bytes or this long, then the socket is cut. */
const LINGER_BYTES = 64 * 1024 * 1024;
const LINGER_MS = 5000;
const NO_CONTINUE = Symbol('no 100-continue sent');

/**
 * The REST config port. Paths are matched exactly (after the query string is
 * cut off), bodies are read up to a limit, every error is JSON naming the
 * field, and no input can throw past the handler.
 */
export class ConfigApi {
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly tokenDigest: Buffer | undefined;

  constructor(private readonly sidecar: ClusterService, private readonly opts: ApiOptions, private readonly log: Logger) {
    this.tokenDigest = opts.token === undefined ? undefined : digest(opts.token);
    this.server = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000, maxHeaderSize: 16_384 }, (req, res) => this.onRequest(req, res));
    // A client that sends `Expect: 100-continue` with a body over the limit
    // is refused before it sends the body (curl does this for large uploads).
    this.server.on('checkContinue', (req, res) => {
      if (this.declaredTooLarge(req)) {
        (req as unknown as Record<symbol, boolean>)[NO_CONTINUE] = true;
        this.onRequest(req, res);
        return;
      }
      res.writeContinue();
      this.onRequest(req, res);
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        const code = (err as NodeJS.ErrnoException).code;
        const e = code === 'EADDRINUSE'
          ? new ConfigError('configService.port', `${this.opts.host}:${this.opts.port} is in use`)
          : err;
        reject(e);
      };
      this.server.once('error', onError);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.removeListener('error', onError);
        this.server.on('error', (err) => this.log.error({ event: 'api', err: err.message }, `config API: ${err.message}`));
        resolve();
      });
    });
  }

  get address(): { host: string; port: number } {
    const a = this.server.address() as AddressInfo | null;
    return a === null ? { host: this.opts.host, port: this.opts.port } : { host: a.address, port: a.port };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
      // Idle keep-alive connections would hold close() open.
      this.server.closeIdleConnections();
      setTimeout(() => { for (const s of this.sockets) s.destroy(); }, 1000).unref();
    });
  }

  private declaredTooLarge(req: http.IncomingMessage): boolean {
    const len = req.headers['content-length'];
    return len !== undefined && Number(len) > this.opts.bodyLimit;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.handle(req, res).catch((err: unknown) => {
      const e = err as { code?: string; message?: string; field?: string };
      const status = restStatus(err);
      if (status === 500) this.log.error({ event: 'api', method: req.method, url: req.url, err: e.message }, `config API: ${e.message}`);
      const code = status === 500 && !e.code?.startsWith('UPS_ERR_') ? 'UPS_ERR_INTERNAL' : e.code ?? 'UPS_ERR_INTERNAL';
      sendError(res, status, code, e.message ?? 'internal error', e.field, errorHeaders(err));
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);

    if (path === '/healthz') {
      allow(method, ['GET', 'HEAD']);
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    // The status page holds no data (its calls carry the token), so it is served to anyone who can reach the port.
    if (path === '/') {
      allow(method, ['GET', 'HEAD']);
      res.writeHead(200, { ...STATUS_PAGE.headers, 'Content-Length': STATUS_PAGE.body.length });
      res.end(method === 'HEAD' ? undefined : STATUS_PAGE.body);
      return;
    }
    // The page above is static and harmless wherever a link to it comes from; everything below is refused to other sites.
    const refused = crossSiteRefusal(req.headers, { listenHost: this.opts.host, token: this.tokenDigest !== undefined });
    if (refused !== undefined) throw new CrossSiteError(refused);
    this.authorize(req);

    if (path === CLUSTERS || path === `${CLUSTERS}/`) {
      allow(method, ['GET', 'HEAD', 'PUT']);
      if (method === 'PUT') {
        const body = await this.readJson(req, res);
        const cluster = await this.sidecar.addCluster(unwrap(body));
        this.log.info({ event: 'api', method, path, uuid: cluster.uuid }, `version ${cluster.version} added as ${cluster.uuid}`);
        sendId(req, res, 202, cluster.uuid);
        return;
      }
      // The seed's list: an array of what GET /configuration/cluster/{id} answers, newest first.
      sendJson(res, 200, this.sidecar.listClusters().map((cluster) => ({ cluster })));
      return;
    }

    const m = ID_PATH.exec(path);
    if (m !== null) {
      const id = m[1]!;
      allow(method, ['GET', 'HEAD', 'PATCH', 'DELETE']);
      // Ids are plain tokens; anything else cannot name a version.
      const known = isValidVersionId(id) && this.sidecar.hasCluster(id);
      if (method === 'PATCH') {
        if (!known) notFound(id);
        const body = await this.readJson(req, res);
        const cluster = await this.sidecar.updateCluster(id, unwrap(body));
        this.log.info({ event: 'api', method, path, uuid: id }, `version ${cluster.version} updated`);
        sendJson(res, 200, { cluster });
        return;
      }
      if (method === 'DELETE') {
        if (!known) notFound(id);
        const cluster = await this.sidecar.removeCluster(id);
        this.log.info({ event: 'api', method, path, uuid: id }, `version ${cluster.version} removed; draining`);
        sendId(req, res, 202, id);
        return;
      }
      if (!known) notFound(id);
      sendJson(res, 200, { cluster: this.sidecar.getCluster(id) });
      return;
    }

    const j = JUDGE_PATH.exec(path);
    if (j !== null) {
      const id = j[1]!;
      const action = j[2] as 'rollback' | 'promote' | 'resume';
      allow(method, ['POST']);
      if (!isValidVersionId(id) || !this.sidecar.hasCluster(id)) notFound(id);
      const cluster = await this.sidecar.judgeCluster(id, action);
      this.log.info({ event: 'api', method, path, uuid: id }, `version ${cluster.version}: ${action}`);
      sendJson(res, 200, { cluster });
      return;
    }

    if (path === '/status') {
      allow(method, ['GET', 'HEAD']);
      sendJson(res, 200, this.sidecar.status(), {}, pretty(req, url.slice(path.length)));
      return;
    }
    if (path === '/metrics') {
      allow(method, ['GET', 'HEAD']);
      const reg = this.sidecar.metrics.registry;
      const text = await reg.metrics();
      res.writeHead(200, { 'Content-Type': reg.contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
      res.end(text);
      return;
    }
    throw new PathNotFoundError(path, '/ (the status page), /configuration/cluster, /status, /metrics, /healthz');
  }

  /** Bearer token, compared in constant time (digests have equal length whatever was sent). */
  private authorize(req: http.IncomingMessage): void {
    if (this.tokenDigest === undefined) return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    const ok = timingSafeEqual(digest(m?.[1] ?? ''), this.tokenDigest) && m !== null;
    if (!ok) {
      throw new UnauthorizedError(header === '' ? 'this API needs Authorization: Bearer <token>' : 'invalid token');
    }
  }

  /** Reads the body up to the limit and parses it as JSON. */
  private async readJson(req: http.IncomingMessage, res: http.ServerResponse): Promise<unknown> {
    const limit = this.opts.bodyLimit;
    if (this.declaredTooLarge(req)) throw await refuseUpload(req, res, limit);
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = await new Promise<boolean>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        size += d.length;
        if (size > limit) {
          req.off('data', onData);
          resolve(true);
          return;
        }
        chunks.push(d);
      };
      req.on('data', onData);
      req.on('end', () => resolve(false));
      req.on('error', reject);
    });
    if (tooLarge) throw await refuseUpload(req, res, limit);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') throw new BadBodyError('body', 'is empty; expected JSON like {"cluster": {...}}');
    try {
      return JSON.parse(text);
    } catch {
      throw new BadBodyError('body', `is not valid JSON: ${jsonErrorAt(text)}`);
    }
  }
}

/**
 * The 413 for an upload over the limit, once it may be sent. A client told
 * not to send its body (no 100-continue) gets it at once. Otherwise the rest
 * of the upload is read and dropped first: closing a socket with unread
 * bytes makes the kernel send a reset, and the client would lose the 413
 * (lingering close). Bounded in bytes and time.
 */
async function refuseUpload(req: http.IncomingMessage, res: http.ServerResponse, limit: number): Promise<BodyTooLargeError> {
  res.shouldKeepAlive = false;
  if (!(req as unknown as Record<symbol, boolean>)[NO_CONTINUE]) {
    await new Promise<void>((resolve) => {
      let dropped = 0;
      const finish = (): void => {
        clearTimeout(timer);
        req.off('data', onData);
        resolve();
      };
      const onData = (d: Buffer): void => {
        dropped += d.length;
        if (dropped > LINGER_BYTES) {
          finish();
          req.socket.destroy();
        }
      };
      const timer = setTimeout(() => { finish(); req.socket.destroy(); }, LINGER_MS);
      req.on('data', onData);
      req.once('end', finish);
      req.once('close', finish);
      req.resume();
    });
  }
  return new BodyTooLargeError(limit);
}

/** Headers an error answer carries beside its JSON body. */
function errorHeaders(err: unknown): Record<string, string> {
  if (err instanceof UnauthorizedError) return { 'WWW-Authenticate': 'Bearer realm="upshift"' };
  if (err instanceof MethodNotAllowedError) return { Allow: err.allowed.join(', ') };
  if (err instanceof BodyTooLargeError) return { Connection: 'close' };
  return {};
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The seed's body shape: `{"cluster": {...}}`, nothing else beside it. */
function unwrap(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadBodyError('body', `must be a JSON object {"cluster": {...}}, got ${body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`}`);
  }
  for (const k of Object.keys(body)) {
    if (k !== 'cluster') throw new BadBodyError(k, nearest(k, ['cluster']) === undefined ? 'unknown field (expected {"cluster": {...}})' : `${unknownName('field', k, ['cluster'])} (the body is {"cluster": {...}})`);
  }
  const cluster = (body as Record<string, unknown>)['cluster'];
  if (cluster === undefined) throw new BadBodyError('cluster', 'is required (expected {"cluster": {...}})');
  return cluster;
}

function allow(method: string, methods: string[]): void {
  if (!methods.includes(method)) {
    throw new MethodNotAllowedError(method, methods);
  }
}

function notFound(id: string): never {
  throw new VersionNotFoundError(id);
}

/**
 * /status is read by people (curl sends an Accept of any type) and by programs: it
 * is indented unless the client names JSON in `Accept` (the CLI, scrapers)
 * or asks with `?compact`; `?pretty` indents whatever the `Accept`.
 */
function pretty(req: http.IncomingMessage, query: string): boolean {
  const q = new URLSearchParams(query);
  if (q.has('pretty')) return true;
  if (q.has('compact')) return false;
  return !/\bjson\b/i.test(req.headers.accept ?? '');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, indent = false): void {
  const text = JSON.stringify(body, null, indent ? 2 : undefined) + '\n';
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string, field: string | undefined, headers: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: field === undefined ? { code, message } : { code, message, field } }, headers);
}

/** The seed answers a new id as text; a client that accepts JSON gets `{"uuid": ...}`. */
function sendId(req: http.IncomingMessage, res: http.ServerResponse, status: number, uuid: string): void {
  const headers = { Location: `${CLUSTERS}/${uuid}` };
  if (/\bapplication\/json\b/i.test(req.headers.accept ?? '')) {
    sendJson(res, status, { uuid }, headers);
    return;
  }
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(uuid), 'Cache-Control': 'no-store' });
  res.end(uuid);
}
