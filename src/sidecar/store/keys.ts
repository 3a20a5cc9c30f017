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
