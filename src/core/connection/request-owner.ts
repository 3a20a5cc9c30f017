import type net from 'node:net';
import type { UpshiftError } from '../errors.js';
import type { VersionState } from '../routing/version.js';

/** What the request in flight needs of its http-mode client connection (an interface: no import circle). */
export interface RequestOwner {
  readonly id: number;
  readonly client: net.Socket;
  readonly clientOpen: boolean;
  readonly clientEnded: boolean;
  /** Ends the connection (what `VersionState.open` holds: its version's removal ends it). */
  destroy(): void;
  /** `n` bytes of an answer went to the client. */
  wrote(n: number): void;
  /** The status of the answer the client gets. */
  answered(status: number): void;
  /** An upstream socket's error, for the close report. */
  noteError(code: string): void;
  /** Answers the client with the error's status (or cuts it, when part of an answer left) and closes. */
  fail(err: UpshiftError): void;
  /** Closes everything at once, without an answer. */
  abort(reason: string | undefined): void;
  /** Client bytes that follow the request (a pipelined one). */
  queue(rest: Buffer): void;
  /** A 101 to a WebSocket upgrade: the connection pipes the client and `up` (of `v`) from here on; `head` and `rest` go to the client first. */
  upgraded(up: net.Socket, v: VersionState, head: Buffer, rest: Buffer | null): void;
  /** The answer was written to the end. `close`: the connection closes after it; `quiet`: nothing more can come from the client unless it is pending. */
  done(close: boolean, quiet: boolean): void;
}
