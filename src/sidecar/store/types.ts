/** `store.etcd` of the config, validated (TLS paths absolute). */
export interface EtcdConfig {
  /** etcd client URLs, all `http://` or all `https://`. */
  endpoints: string[];
  /** Every key of this routing lives under it; sidecars sharing one routing give the same prefix. Default `/upshift/`. */
  prefix: string;
  username?: string;
  password?: string;
  /** PEM files: the CA that signed etcd's certificate, and a client certificate with its key. */
  tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined };
}

export const DEFAULT_ETCD_PREFIX = '/upshift/';

/** What a sidecar publishes about itself under `<prefix>hosts/<sidecarId>` (bound to a lease: it disappears when the host does). */
export interface HostRecord {
  id: string;
  /** The store revision of the last version change this host applied. */
  revision: number;
  /** Where it listens: the proxy and the config API. */
  addresses: { proxy: string; api: string };
  /** Its view of each version: state, share, servers up, container launch. */
  versions: Array<{ uuid: string; version: string; state: string; share: number; serversUp: number; servers: number; launch?: string }>;
  /** When it wrote this record (ISO 8601): a record that stops being refreshed is a host gone silent. */
  at: string;
  /** Set in the last record of a host that stops cleanly (ISO 8601): the other hosts drop it at once. */
  left?: string;
}
