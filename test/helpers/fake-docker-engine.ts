import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A Docker engine over HTTP that speaks the few Engine API paths the
 * launcher uses, and misbehaves on demand: a route can hang (take the
 * request, never answer), and create or inspect can answer what a test
 * wants. For what a real engine cannot be made to do; the real one is
 * tested in test/docker.
 */
export type Route = 'ping' | 'events' | 'list' | 'image' | 'create' | 'start' | 'inspect' | 'stop' | 'remove';

export interface FakeContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  env: string[];
  running: boolean;
  removed: boolean;
  state: { ExitCode: number; Error: string };
}

export interface FakeEngine {
  /** `127.0.0.1:<port>`, for `dockerHost`. */
  address: string;
  containers: Map<string, FakeContainer>;
  /** Every request, as "METHOD /path". */
  requests: string[];
  /** Routes that take the request and never answer. */
  hang: Set<Route>;
  /** The host port every container publishes its ports on (a test backend). */
  publishPort: number;
  /** Answers a create instead of the engine: return an error to refuse it. */
  onCreate?: (body: { Env?: string[]; Labels?: Record<string, string> }) => { status: number; message: string } | undefined;
  /** Called on start: may mark the container exited (running = false, state.Error = ...). */
  onStart?: (c: FakeContainer) => void;
  live(): FakeContainer[];
  close(): Promise<void>;
}

function route(method: string, path: string): { route: Route; id?: string } | undefined {
  if (path === '/_ping') return { route: 'ping' };
  if (path === '/events') return { route: 'events' };
  if (path === '/containers/json') return { route: 'list' };
  if (method === 'POST' && path === '/containers/create') return { route: 'create' };
  if (/^\/images\/.+\/json$/.test(path)) return { route: 'image' };
  const m = /^\/containers\/([^/]+)(?:\/(start|stop|json))?$/.exec(path);
  if (m === null) return undefined;
  if (method === 'DELETE') return { route: 'remove', id: m[1]! };
  return { route: m[2] === 'json' ? 'inspect' : (m[2] as Route), id: m[1]! };
}

export async function fakeEngine(publishPort = 1): Promise<FakeEngine> {
  const sockets = new Set<Socket>();
  const engine: FakeEngine = {
    address: '',
    containers: new Map(),
    requests: [],
    hang: new Set(),
    publishPort,
    live: () => [...engine.containers.values()].filter((c) => !c.removed),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://engine');
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      engine.requests.push(`${req.method} ${url.pathname}`);
      const r = route(req.method ?? 'GET', url.pathname);
      if (r === undefined) return json(res, 404, { message: `page not found: ${url.pathname}` });
      if (engine.hang.has(r.route)) return;
      const c = r.id === undefined ? undefined : engine.containers.get(r.id) ?? [...engine.containers.values()].find((x) => x.name === r.id);
      switch (r.route) {
        case 'ping': res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('OK'); return;
        case 'events': res.writeHead(200, { 'Content-Type': 'application/json' }); res.flushHeaders(); return;
        case 'image': return json(res, 200, { Id: 'sha256:fake' });
        case 'list': {
          const wanted: string[] = (JSON.parse(url.searchParams.get('filters') ?? '{}') as { label?: string[] }).label ?? [];
          const list = engine.live().filter((x) => wanted.every((l) => { const [k, v] = l.split('='); return x.labels[k!] === v; }));
          return json(res, 200, list.map((x) => ({ Id: x.id, Names: [`/${x.name}`], Labels: x.labels, State: x.running ? 'running' : 'exited' })));
        }
        case 'create': {
          const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { Env?: string[]; Labels?: Record<string, string> };
          const refused = engine.onCreate?.(body);
          if (refused !== undefined) return json(res, refused.status, { message: refused.message });
          const name = url.searchParams.get('name') ?? randomBytes(4).toString('hex');
          if (engine.live().some((x) => x.name === name)) return json(res, 409, { message: `Conflict. The container name "/${name}" is already in use` });
          const id = randomBytes(32).toString('hex');
          engine.containers.set(id, { id, name, labels: body.Labels ?? {}, env: body.Env ?? [], running: false, removed: false, state: { ExitCode: 0, Error: '' } });
          return json(res, 201, { Id: id, Warnings: [] });
        }
      }
      if (c === undefined || c.removed) return json(res, 404, { message: `No such container: ${r.id}` });
      switch (r.route) {
        case 'start': c.running = true; engine.onStart?.(c); res.writeHead(204); res.end(); return;
        case 'stop': c.running = false; res.writeHead(204); res.end(); return;
        case 'remove': c.removed = true; c.running = false; res.writeHead(204); res.end(); return;
        case 'inspect': return json(res, 200, {
          Id: c.id, Name: `/${c.name}`, Config: { Env: c.env, Labels: c.labels },
          State: { Running: c.running, ExitCode: c.state.ExitCode, Error: c.state.Error, OOMKilled: false },
          NetworkSettings: { Ports: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(engine.publishPort) }] } },
        });
        default: return json(res, 500, { message: 'unexpected route' });
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  engine.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return engine;
}
