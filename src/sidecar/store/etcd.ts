import { readFileSync } from 'node:fs';
import { ExponentialBackoff, noop } from 'cockatiel';
import { Etcd3, type IKeyValue, type IOptions, type Lease, type Watcher } from 'etcd3';
import { ConfigError, StoreUnavailableError } from '../errors.js';
import { probe, refusalOf } from './diagnose.js';
import type { EtcdConfig } from './types.js';

/** One key as the store module uses it: text, with the revisions that guard updates. */
export interface StoredKey {
  key: string;
  value: string;
  modRevision: number;
  createRevision: number;
}

export interface WatchHandlers {
  /** Changes at one revision, in order. */
  changes(revision: number, events: Array<{ type: 'put' | 'delete'; kv: StoredKey }>): void;
  /** The watch cannot go on from where it was (compacted away, or canceled by etcd): list again and watch anew. */
  broken(err: Error): void;
  /** The stream went away; the client reconnects with backoff and resumes from the next revision. */
  disconnected(err: Error): void;
  connected(): void;
}

/** A guarded write: each `compare` must hold, else nothing is written. */
export interface Txn {
  compare: Array<{ key: string; target: 'Mod' | 'Create'; value: number }>;
  put?: Array<{ key: string; value: string }>;
  delete?: string[];
}

/** A call to etcd that does not answer in this time counts as etcd unreachable (ms). */
const CALL_DEADLINE = 2000;

function toKey(kv: IKeyValue): StoredKey {
  return { key: kv.key.toString(), value: kv.value.toString(), modRevision: Number(kv.mod_revision), createRevision: Number(kv.create_revision) };
}

function readPem(file: string | undefined, field: string): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(field, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * The etcd client as the store needs it: listings with their revision,
 * guarded transactions, a prefix watch and a lease. Every failure to reach
 * etcd is a `StoreUnavailableError`. Retries are ours (the shared store
 * reconnects with its own backoff), so the client's own policies are off:
 * a call fails at once, or after `CALL_DEADLINE`, instead of hanging a REST answer.
 */
export class EtcdClient {
  private readonly client: Etcd3;
  /** The TLS files as read at start: a probe uses the same ones as the client. */
  private readonly pems: { ca?: Buffer | undefined; cert?: Buffer | undefined; key?: Buffer | undefined } = {};

  constructor(readonly config: EtcdConfig) {
    const tls = config.tls;
    const options: IOptions = {
      hosts: config.endpoints,
      dialTimeout: CALL_DEADLINE,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + CALL_DEADLINE }),
      faultHandling: { host: () => noop, global: noop, watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }).next() },
      ...(config.username !== undefined ? { auth: { username: config.username, password: config.password ?? '' } } : {}),
    };
    if (tls !== undefined) {
      const rootCertificate = readPem(tls.ca, 'store.etcd.tls.ca');
      const privateKey = readPem(tls.key, 'store.etcd.tls.key');
      const certChain = readPem(tls.cert, 'store.etcd.tls.cert');
      // Without a CA file, grpc must get no root certificate at all to use the system's CAs (an empty one trusts nothing).
      options.credentials = { rootCertificate: rootCertificate as Buffer, ...(privateKey ? { privateKey } : {}), ...(certChain ? { certChain } : {}) };
      this.pems = { ca: rootCertificate, cert: certChain, key: privateKey };
    }
    this.client = new Etcd3(options);
  }

  /** The failure said as the REST API and the logs say it: the field at fault when etcd refused this host (credentials, permissions). */
  unavailable(err: unknown): StoreUnavailableError {
    if (err instanceof StoreUnavailableError) return err;
    const refusal = refusalOf(err, this.config);
    if (refusal !== undefined) return new StoreUnavailableError(this.config.endpoints, refusal.cause, refusal.field);
    const msg = (err as Error)?.message ?? String(err);
    return new StoreUnavailableError(this.config.endpoints, msg.replace(/\s+/g, ' ').slice(0, 200));
  }

  /**
   * `unavailable(err)`, made precise when the client could only say that no
   * connection was established: a probe of the endpoints names the cause
   * (an untrusted certificate, a refused client certificate, no TLS, refused).
   */
  async diagnose(err: unknown): Promise<StoreUnavailableError> {
    const e = this.unavailable(err);
    if (e.field !== 'store.etcd' || !/UNAVAILABLE|No connection established|DEADLINE/i.test(e.reason)) return e;
    const fault = await probe(this.config, this.pems).catch(() => undefined);
    return fault === undefined ? e : new StoreUnavailableError(this.config.endpoints, fault.cause, fault.field ?? 'store.etcd');
  }

  /** Every key under `prefix`, and the revision the listing is of. */
  async list(prefix: string): Promise<{ revision: number; kvs: StoredKey[] }> {
    try {
      const res = await this.client.getAll().prefix(prefix).exec();
      return { revision: Number(res.header.revision), kvs: res.kvs.map(toKey) };
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** Runs a guarded write; `succeeded` false when a compare failed (nothing written). */
  async txn(t: Txn): Promise<{ succeeded: boolean; revision: number }> {
    const [first, ...rest] = t.compare;
    if (first === undefined) throw new Error('a transaction needs a compare');
    let b = this.client.if(first.key, first.target, '==', first.value);
    for (const c of rest) b = b.and(c.key, c.target, '==', c.value);
    b = b.then(...(t.put ?? []).map((p) => this.client.put(p.key).value(p.value)), ...(t.delete ?? []).map((k) => this.client.delete().key(k)));
    try {
      const res = await b.commit();
      return { succeeded: res.succeeded, revision: Number(res.header.revision) };
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** Watches every key under `prefix` from `fromRevision` on. */
  watch(prefix: string, fromRevision: number, h: WatchHandlers): Watcher {
    const w = this.client.watch().prefix(prefix).startRevision(String(fromRevision)).watcher();
    w.on('data', (res) => {
      const events = res.events.map((ev) => ({ type: ev.type === 'Delete' ? 'delete' as const : 'put' as const, kv: toKey(ev.kv) }));
      if (events.length > 0) h.changes(Number(res.header.revision), events);
    });
    w.on('error', (err) => h.broken(err));
    w.on('disconnected', (err) => h.disconnected(err));
    w.on('connected', () => h.connected());
    return w;
  }

  /** A lease of `ttl` seconds, kept alive by the client until revoked or lost. */
  lease(ttl: number): Lease {
    return this.client.lease(ttl);
  }

  close(): void {
    this.client.close();
  }
}
