import { createRequire } from 'node:module';
import { EngineUnavailableError } from '../../errors.js';

/**
 * The part of uWebSockets.js the uws engine uses, declared here: the package
 * is an optional peer dependency, so its own types may be missing at build time.
 */
export interface UwsResponse {
  writeStatus(status: string | Uint8Array): UwsResponse;
  writeHeader(key: string, value: string): UwsResponse;
  write(chunk: Uint8Array | string): boolean;
  end(body?: Uint8Array | string, closeConnection?: boolean): UwsResponse;
  endWithoutBody(reportedContentLength?: number, closeConnection?: boolean): UwsResponse;
  tryEnd(chunk: Uint8Array, totalSize: number): [ok: boolean, done: boolean];
  close(): UwsResponse;
  getWriteOffset(): number;
  onWritable(handler: (offset: number) => boolean): UwsResponse;
  onAborted(handler: () => void): UwsResponse;
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): UwsResponse;
  getRemoteAddressAsText(): ArrayBuffer;
  pause(): void;
  resume(): void;
  cork(cb: () => void): UwsResponse;
  /** In a `ws` route's upgrade handler only: answers 101 and makes the connection a WebSocket (`open` is called at once). */
  upgrade(userData: object, key: string, protocol: string, extensions: string, context: UwsSocketContext): void;
}

export interface UwsSocketContext { readonly brand?: 'us_socket_context' }

/** A WebSocket uWS accepted: valid from `open` until `close` (which `end` and `close` call at once). */
export interface UwsWebSocket {
  send(message: Uint8Array, isBinary: boolean): number;
  sendFirstFragment(message: Uint8Array, isBinary: boolean): number;
  sendFragment(message: Uint8Array): number;
  sendLastFragment(message: Uint8Array): number;
  ping(message: Uint8Array): number;
  getBufferedAmount(): number;
  end(code?: number, reason?: Uint8Array): void;
  close(): void;
  cork(cb: () => void): void;
  getUserData(): object;
}

export interface UwsRequest {
  getHeader(lowerCaseKey: string): string;
  getUrl(): string;
  getCaseSensitiveMethod(): string;
  getQuery(): string | undefined;
  forEach(cb: (key: string, value: string) => void): void;
}

export interface UwsListenSocket { readonly brand?: 'us_listen_socket' }

export interface UwsApp {
  any(pattern: string, handler: (res: UwsResponse, req: UwsRequest) => void): UwsApp;
  listen(host: string, port: number, cb: (socket: UwsListenSocket | false) => void): UwsApp;
  ws(pattern: string, behavior: object): UwsApp;
  close(): UwsApp;
}

export interface UwsModule {
  App(options?: object): UwsApp;
  us_listen_socket_close(socket: UwsListenSocket): void;
  us_socket_local_port(socket: UwsListenSocket): number;
}

/** Tried in order: the official build when installed, else the registry's republish of it. */
export const UWS_PACKAGES: readonly string[] = ['uWebSockets.js', 'uwebsockets'];

let cached: { module: UwsModule; from: string } | undefined;

/**
 * Loads the first uWebSockets.js build of `names` that works here: a
 * package that resolves but whose binary does not load (another Node ABI,
 * an older glibc) is skipped, and its reason kept. Throws
 * `EngineUnavailableError` listing every package's reason when none does.
 */
export function loadUws(names: readonly string[] = UWS_PACKAGES): { module: UwsModule; from: string } {
  if (names === UWS_PACKAGES && cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const reasons: string[] = [];
  for (const name of names) {
    let m: unknown;
    try {
      m = require(name);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'MODULE_NOT_FOUND' && e.message.includes(`'${name}'`) ? 'not installed' : firstLine(e.message);
      reasons.push(`${name}: ${why}`);
      continue;
    }
    const u = m as Partial<UwsModule>;
    if (typeof u.App !== 'function' || typeof u.us_listen_socket_close !== 'function' || typeof u.us_socket_local_port !== 'function') {
      reasons.push(`${name}: loaded, but it is not a uWebSockets.js build (no App, us_listen_socket_close, us_socket_local_port)`);
      continue;
    }
    const found = { module: u as UwsModule, from: name };
    if (names === UWS_PACKAGES) cached = found;
    return found;
  }
  throw new EngineUnavailableError(
    `engine "uws" needs a uWebSockets.js build that loads on Node ${process.versions.node} (${process.platform}-${process.arch}, ABI ${process.versions.modules}); none did: ${reasons.join('; ')}`,
  );
}

/** The binding's own messages run to a page: the first line, and the dlopen error when there is one. */
function firstLine(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const dl = lines.find((l) => /^Error: |GLIBC|cannot open|invalid ELF|wrong ELF/.test(l) && l !== lines[0]);
  return dl === undefined ? (lines[0] ?? message) : `${lines[0]} (${dl.replace(/^Error: /, '')})`;
}
