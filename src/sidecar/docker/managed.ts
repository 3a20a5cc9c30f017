import type { ServerAddress } from '../../core/index.js';
import { engineTextRedactor } from './redact.js';
import type { ContainerSpec } from './spec.js';

export type ManagedState = 'launching' | 'ready' | 'dead' | 'stopping';

/**
 * One launch of a version: what it created and where it stands. The
 * launcher creates it; readiness, deaths and reconcile read it and set
 * `exited` / `state` as they learn what the engine did.
 */
export interface Managed {
  /** This launch, unique in the process (containers carry it as a label): stops and deaths are keyed to it, not to the uuid. */
  launchId: string;
  uuid: string;
  version: string;
  specs: ContainerSpec[];
  /** Containers created so far, in spec order. */
  containers: Array<{ id: string; name: string; index: number }>;
  addresses: ServerAddress[];
  state: ManagedState;
  abort: AbortController;
  /** Set by the events stream when one of its containers exits during the launch. */
  exited: string | undefined;
  launching: Promise<unknown> | undefined;
  checking: boolean;
  /** Hides this launch's environment values in text the engine sent. */
  hide: (engineText: string) => string;
}

export function newManaged(launchId: string, uuid: string, version: string, specs: ContainerSpec[], state: ManagedState): Managed {
  return {
    launchId, uuid, version, specs, containers: [], addresses: [], state,
    abort: new AbortController(), exited: undefined, launching: undefined, checking: false,
    hide: engineTextRedactor(specs),
  };
}

/** The logging calls the launcher makes (pino's signature). Never given secrets. */
export interface LauncherLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const noopLogger: LauncherLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
