import type Docker from 'dockerode';
import { UpshiftError } from '../../core/errors.js';
import { DockerCallError, DockerTimeoutError, engineMessage, engineStatus } from './errors.js';

/**
 * The Docker engine as the launcher calls it: every call has a deadline (a
 * whole-call bound, not dockerode's idle timeout, which an engine that
 * trickles bytes or answers nothing at all can hold open), and a call that
 * misses it rejects with `DockerTimeoutError` naming the call and the engine.
 */
export class Engine {
  constructor(
    readonly docker: Docker,
    /** How the engine is named in messages (`unix:///var/run/docker.sock`). */
    readonly describe: string,
    /** Default deadline of one call, in ms. */
    readonly timeoutMs: number,
  ) {}

  /**
   * Runs one engine call. `fn` gets an AbortSignal to hand to dockerode, so
   * the request is cut when the deadline passes (or `signal` aborts).
   */
  async call<T>(what: string, fn: (docker: Docker, signal: AbortSignal) => Promise<T>, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    const ms = opts.timeoutMs ?? this.timeoutMs;
    const deadline = new AbortController();
    const signal = opts.signal === undefined ? deadline.signal : AbortSignal.any([deadline.signal, opts.signal]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        deadline.abort();
        reject(new DockerTimeoutError(what, this.describe, ms));
      }, ms);
      timer.unref();
    });
    // Some dockerode calls ignore the signal: the race ends them anyway.
    const call = fn(this.docker, signal);
    call.catch(() => {});
    try {
      return await Promise.race([call, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A failed call as a coded error: kept when it is one already (a timeout), else a `DockerCallError` saying what the engine answered. */
export function callError(what: string, err: unknown, hide: (engineText: string) => string = (s) => s): UpshiftError {
  if (err instanceof UpshiftError) return err;
  return new DockerCallError(what, hide(engineMessage(err)), engineStatus(err));
}
