import { loadUws } from '../../src/core/engine/uws/load.js';
import type { ProxyOptions } from '../../src/core/index.js';

/**
 * The connection modes a behaviour runs in, and http mode's engines: `http`
 * on Node's sockets, and `http+uws` on uWebSockets.js when a build of it
 * loads here (an optional dependency). With UPSHIFT_REQUIRE_UWS=1 (CI) a
 * build that does not load is a failure, not a shorter list.
 */
export type ModeName = 'stream' | 'http' | 'http+uws';

function uwsLoads(): boolean {
  try {
    loadUws();
    return true;
  } catch (err) {
    if (process.env['UPSHIFT_REQUIRE_UWS'] === '1') throw err;
    return false;
  }
}

export const UWS_LOADS = uwsLoads();
/** http mode, on every engine that loads. */
export const HTTP_MODES: readonly ModeName[] = UWS_LOADS ? ['http', 'http+uws'] : ['http'];
export const MODES: readonly ModeName[] = ['stream', ...HTTP_MODES];

/** The proxy options that select `m`. */
export function modeOptions(m: ModeName): Pick<ProxyOptions, 'mode' | 'engine'> {
  return m === 'http+uws' ? { mode: 'http', engine: 'uws' } : { mode: m };
}

/**
 * What uWebSockets.js decides itself, so that a behaviour of http mode does
 * not hold on the uws engine (each is recorded in native-notes.md and
 * asserted as it is by test/core/uws-engine-limits.test.ts):
 * - `connections`: uWS gives no hook per client connection; the registry,
 *   `connections`, the connection events and the per-version connection
 *   count see requests in flight, not connections.
 * - `half-close`: a client's FIN closes the connection, the answer in flight is lost.
 * - `close-after-stream`: after an answer whose body went in pieces (chunked, to EOF), uWS cannot close the
 *   connection (its closeConnection would land inside the body): the client is told `Connection: close` and
 *   left to close it (else uWS's idle timeout does).
 * - `pipelining`: a request read while an earlier one waits for its answer closes the connection; both answers are lost.
 * - `uws-timeouts`: head and idle timeouts are uWS's own (about 10 s), not `timeouts.*`.
 * - `uws-head-checks`: uWS answers some bad or split heads itself (400, 431, 505 for a request line in pieces)
 *   and hangs on others (no answer; it closes at about 10 s: test/fixtures/http1/DECISIONS-uws-engine.md, U1).
 * - `interim`: a server's 1xx heads are not passed on.
 */
export type UwsLimit = 'connections' | 'half-close' | 'close-after-stream' | 'pipelining' | 'uws-timeouts' | 'uws-head-checks' | 'interim';

/** The modes in which a behaviour that the uws engine cannot give (`_limit`, for the reader) holds. */
export function modesExcept(_limit: UwsLimit, modes: readonly ModeName[] = MODES): readonly ModeName[] {
  return modes.filter((m) => m !== 'http+uws');
}
