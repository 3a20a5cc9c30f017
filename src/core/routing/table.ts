import { VersionExistsError, VersionNotFoundError } from '../errors.js';
import { newestFirst } from './order.js';
import type { VersionSpec } from './spec.js';
import { VersionState } from './version.js';

/**
 * The set of versions, kept as an immutable snapshot ordered newest first.
 * Every change builds a new array, so a connection that took a snapshot
 * routes on a consistent view while versions come and go.
 */
export class RoutingTable {
  private readonly byId = new Map<string, VersionState>();
  private seq = 0;
  private ordered: readonly VersionState[] = Object.freeze([]);

  /** All active versions, newest first. */
  get snapshot(): readonly VersionState[] {
    return this.ordered;
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): VersionState | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  add(spec: VersionSpec): VersionState {
    if (this.byId.has(spec.uuid)) throw new VersionExistsError(spec.uuid);
    const v = new VersionState(spec, ++this.seq);
    this.byId.set(v.uuid, v);
    this.rebuild();
    return v;
  }

  update(spec: VersionSpec): VersionState {
    const v = this.byId.get(spec.uuid);
    if (v === undefined) throw new VersionNotFoundError(spec.uuid);
    v.update(spec);
    this.rebuild();
    return v;
  }

  remove(id: string): VersionState {
    const v = this.byId.get(id);
    if (v === undefined) throw new VersionNotFoundError(id);
    this.byId.delete(id);
    v.state = 'draining';
    this.rebuild();
    return v;
  }

  private rebuild(): void {
    this.ordered = Object.freeze([...this.byId.values()].sort(newestFirst));
  }
}
