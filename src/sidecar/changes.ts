import type { Logger } from 'pino';
import { compareVersions, toClusterJSON, validateVersion, type ClusterJSON } from '../core/index.js';
import { StateFileError } from './errors.js';
import type { StateStore, StoredCluster } from './store.js';

/**
 * The one rule for every change the API makes (PUT, PATCH, DELETE): it is
 * checked in full, the store commits the state it leads to, and only then
 * does the proxy apply it. A change the store refuses (`UPS_ERR_STATE_FILE`)
 * never reaches routing; a change the proxy then refuses (it is closing) is
 * taken back out of the store. Changes run one at a time, each computed from
 * the state the previous one left. A shared store (etcd) keeps the order:
 * commit, then apply.
 */
export class Changes {
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * `current` is the state the proxy holds now, as the store keeps it.
   * With `shared` (etcd), a commit goes there instead, and the proxy applies
   * it from the store's watch as every host does: callers then skip their
   * own apply (`this.shared` is true) and answer from the applied state.
   */
  constructor(
    private readonly store: StateStore | undefined,
    private readonly log: Logger,
    private readonly current: () => StoredCluster[],
    private readonly sharedStore?: { commit(current: StoredCluster[], next: StoredCluster[], reason?: 'api' | 'retired'): Promise<void> },
  ) {}

  /** The changes go to a shared store and are applied from its watch. */
  get shared(): boolean {
    return this.sharedStore !== undefined;
  }

  /** Runs `change` after every change before it has ended. */
  run<T>(change: () => Promise<T>): Promise<T> {
    const run = this.queue.then(change);
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * Commits `next` to the store (when there is one); throws `StateFileError` when it cannot (a shared store: see `SharedStore.commit`).
   * `reason`: why the versions it leaves out are removed (a shared store tells every host).
   */
  async commit(next: StoredCluster[], reason?: 'api' | 'retired'): Promise<void> {
    if (this.sharedStore !== undefined) return this.sharedStore.commit(this.current(), next, reason);
    if (this.store === undefined) return;
    try {
      await this.store.save(() => next);
    } catch (err) {
      const e = new StateFileError(this.store.file, `cannot be written: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      this.log.error({ event: 'state', err: e.message }, e.message);
      throw e;
    }
  }

  /** Applies a committed change to the proxy; if the proxy refuses it, the store gets the current state back. */
  async apply<T>(fn: () => T): Promise<T> {
    try {
      return fn();
    } catch (err) {
      await this.commit(this.current()).catch(() => { /* logged by commit */ });
      throw err;
    }
  }
}

/** One version as the store keeps it: a container version's servers come from its containers on every start. */
export function toStored(json: ClusterJSON, containers: unknown, percentage: number | undefined): StoredCluster {
  const out: StoredCluster = { ...json };
  if (containers !== undefined) {
    delete out['servers'];
    out['containers'] = containers;
  }
  if (percentage !== undefined) out['percentage'] = percentage;
  return out;
}

/** `list` (newest first) with `entry` added where the proxy will list it: before the first version it sorts at or above (the newer of a tie). */
export function withVersion(list: StoredCluster[], entry: StoredCluster): StoredCluster[] {
  const at = list.findIndex((e) => compareVersions(entry.version, e.version) >= 0);
  return at === -1 ? [...list, entry] : [...list.slice(0, at), entry, ...list.slice(at)];
}

/** A config version as a shared store keeps it (its uuid generated here when it has none: the first host's seed is everyone's). */
export function storedFromConfig(input: Record<string, unknown>): StoredCluster {
  const containers = input['containers'];
  const spec = validateVersion(input, { extraKeys: ['containers'], serversOptional: containers !== undefined });
  return toStored(toClusterJSON(spec), containers, undefined);
}
