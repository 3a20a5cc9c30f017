import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { StateFileError } from './errors.js';
import { jsonErrorAt } from './json.js';

/** One version as the state file keeps it: the seed's cluster JSON, plus `containers` and the GRADUAL share. */
export type StoredCluster = Record<string, unknown> & { uuid: string; version: string };

export interface StateFile {
  format: 'upshift-state/1';
  savedAt: string;
  /** Newest first, as `GET /configuration/cluster` lists them. */
  clusters: StoredCluster[];
}

/**
 * The state file: every runtime change is written to a temp file in the same
 * directory, fsynced, renamed over the old file, and the directory fsynced,
 * so after a crash the file is either the old state or the new one, never a
 * mix, and a change acknowledged with 202 survives a power cut.
 */
export class StateStore {
  readonly file: string;
  private queue: Promise<void> = Promise.resolve();
  private seq = 0;

  constructor(file: string) {
    this.file = path.resolve(file);
  }

  /**
   * Removes the temp files (`<file>.<pid>.<n>.tmp`) of writes a crash cut
   * short: they hold environment values too, and nothing reads them. Call
   * before the first write. Resolves with how many were removed.
   */
  async removeLeftovers(): Promise<number> {
    const dir = path.dirname(this.file);
    const base = path.basename(this.file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const mine = new RegExp(`^${base}\\.\\d+\\.\\d+\\.tmp$`);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names.filter((n) => mine.test(n))) {
      try {
        await unlink(path.join(dir, name));
        removed++;
      } catch { /* gone already, or not ours to remove: the next start tries again */ }
    }
    return removed;
  }

  /** The saved clusters, or undefined when there is no state file yet. */
  async load(): Promise<StoredCluster[] | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateFileError(this.file, `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new StateFileError(this.file, `is not valid JSON (${jsonErrorAt(text)}); fix it or move it away to start from the config file`);
    }
    const clusters = (json as Partial<StateFile> | null)?.clusters;
    if ((json as Partial<StateFile> | null)?.format !== 'upshift-state/1' || !Array.isArray(clusters)) {
      throw new StateFileError(this.file, 'is not an upshift state file (expected {"format": "upshift-state/1", "clusters": [...]})');
    }
    return clusters as StoredCluster[];
  }

  /**
   * Writes the state `snapshot()` returns when this write's turn comes.
   * Writes are serialized; a caller that awaits its save knows that the
   * file holds its change (later snapshots include earlier changes).
   */
  save(snapshot: () => StoredCluster[]): Promise<void> {
    const run = this.queue.then(() => this.write(snapshot()));
    // The queue continues after a failed write; the caller still sees the error.
    this.queue = run.catch(() => {});
    return run;
  }

  private async write(clusters: StoredCluster[]): Promise<void> {
    const state: StateFile = { format: 'upshift-state/1', savedAt: new Date().toISOString(), clusters };
    const tmp = `${this.file}.${process.pid}.${++this.seq}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(state, null, 2) + '\n');
      await fh.sync();
    } catch (err) {
      await fh.close();
      await unlink(tmp).catch(() => {});
      throw err;
    }
    await fh.close();
    try {
      await rename(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    // The rename is durable only once the directory entry is on disk.
    const dir = await open(path.dirname(this.file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

/** The state file, as /status shows it. */
export interface StateFileStatus {
  path: string;
  /** The versions were restored from it at start-up: the config's clusters were not used. */
  restored: boolean;
  /** When restored: how to start from the config again. */
  note?: string;
}

/** How to make the config's clusters count again, said wherever the state file is shown to win. */
export const RESTART_FROM_CONFIG = 'To start from the config again, delete the state file (or start with --no-state).';
