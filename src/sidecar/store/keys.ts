/** Why a version left the routing: by an operator (`api`), or retired once drained. */
export type RemoveReason = 'api' | 'retired';

/**
 * The `changed` key's value: when, and the reason of each version this
 * change removes other than by an operator, so that every host removes it
 * for the same reason.
 */
export function changedValue(removed: ReadonlyMap<string, RemoveReason> = new Map()): string {
  const reasons = Object.fromEntries([...removed].filter(([, r]) => r !== 'api'));
  return JSON.stringify({ at: new Date().toISOString(), ...(Object.keys(reasons).length > 0 ? { removed: reasons } : {}) });
}

/** The removal reasons a `changed` value carries (none in one written as a bare date). */
export function removalsIn(value: string): Map<string, RemoveReason> {
  try {
    const v = JSON.parse(value) as { removed?: Record<string, unknown> };
    return new Map(Object.entries(v.removed ?? {}).filter((e): e is [string, RemoveReason] => e[1] === 'retired'));
  } catch {
    return new Map();
  }
}

/** The key layout under the prefix: one key per version, one per host, and the marker of a seeded routing. */
export class Keys {
  constructor(readonly prefix: string) {}

  get versions(): string {
    return `${this.prefix}versions/`;
  }

  get hosts(): string {
    return `${this.prefix}hosts/`;
  }

  /** Rewritten with every version change: its revision is the routing's revision, which each host reports as applied. */
  get changed(): string {
    return `${this.prefix}changed`;
  }

  /** Written with the config's versions by the first host to start: the next hosts load them instead of adding their own. */
  get seeded(): string {
    return `${this.prefix}seeded`;
  }

  version(uuid: string): string {
    return this.versions + uuid;
  }

  host(id: string): string {
    return this.hosts + id;
  }
}
