import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { EtcdConfig } from './types.js';

/** Why etcd cannot be used, as precisely as this host can tell: the config field at fault (none when etcd is just away) and the cause. */
export interface StoreFault {
  field: string | undefined;
  cause: string;
}

/** How long a probe of one endpoint may take (ms). */
const PROBE_DEADLINE = 2000;
/** A TLS 1.3 server refuses a client certificate after the handshake: a probe listens this long for that alert (ms). */
const ALERT_WAIT = 300;

/** Node's certificate verification codes that mean "etcd's certificate is not signed by a CA this host trusts". */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED',
]);

/**
 * The fault etcd itself names in a refusal (the client's error classes
 * carry etcd's message): credentials and permissions. Undefined for
 * anything else (unreachable, timed out).
 */
export function refusalOf(err: unknown, config: EtcdConfig): { field: string; cause: string } | undefined {
  const msg = (err as Error | undefined)?.message ?? '';
  const user = config.username !== undefined ? `user "${config.username}"` : 'no user';
  if (/authentication failed|invalid user ID or password/.test(msg)) {
    return { field: 'store.etcd.password', cause: `etcd refused ${user} with this password (authentication failed: wrong username or password)` };
  }
  if (/user name is empty/.test(msg)) {
    return { field: 'store.etcd.username', cause: 'etcd has authentication enabled: give store.etcd.username and store.etcd.password' };
  }
  if (/permission denied/.test(msg)) {
    return { field: 'store.etcd.prefix', cause: `etcd denied ${user} access to ${config.prefix} (grant its role readwrite on that prefix)` };
  }
  return undefined;
}

function endpointParts(url: string): { host: string; port: number; secure: boolean } {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (secure ? 443 : 80)), secure };
}

/** What a failed TLS handshake (or a connection) says about the config. */
function tlsFault(err: NodeJS.ErrnoException, url: string, config: EtcdConfig): StoreFault {
  const code = err.code ?? '';
  const ca = config.tls?.ca;
  if (UNTRUSTED.has(code)) {
    return { field: 'store.etcd.tls.ca', cause: `etcd's certificate at ${url} is not signed by ${ca !== undefined ? `the CA in ${ca}` : 'a CA this host trusts (no store.etcd.tls.ca given: the system\'s CAs)'} (${code}: ${err.message})` };
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return { field: 'store.etcd.endpoints', cause: `etcd's certificate at ${url} is not valid now (${code})` };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { field: 'store.etcd.endpoints', cause: `etcd's certificate does not name the host of ${url} (${err.message})` };
  }
  if (/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|ALERT_BAD_CERTIFICATE/.test(code) && config.tls?.cert === undefined) {
    return { field: 'store.etcd.tls.cert', cause: `etcd at ${url} asks for a client certificate (give store.etcd.tls.cert and key) (${code})` };
  }
  if (/ALERT_BAD_CERTIFICATE|ALERT_UNKNOWN_CA|CERTIFICATE_REQUIRED|ALERT_CERTIFICATE/.test(code)) {
    return { field: 'store.etcd.tls.cert', cause: `etcd at ${url} refused the client certificate${config.tls?.cert !== undefined ? ` ${config.tls.cert}` : ''} (not signed by a CA it trusts?) (${code})` };
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO') {
    return { field: 'store.etcd.endpoints', cause: `${url} does not answer TLS (an http:// endpoint?) (${code})` };
  }
  // Refused, reset, no route: etcd is away (or the endpoint is wrong), not a credential to fix.
  return { field: undefined, cause: `cannot connect to ${url}: ${err.message}` };
}

/** The CAs the etcd client trusts without `tls.ca`: gRPC reads GRPC_DEFAULT_SSL_ROOTS_FILE_PATH when it is set, else Node's. */
function systemCAs(): { ca?: Buffer } {
  const file = process.env['GRPC_DEFAULT_SSL_ROOTS_FILE_PATH'];
  if (file === undefined || file === '') return {};
  try {
    return { ca: readFileSync(file) };
  } catch {
    return {};
  }
}

/** One endpoint's connection, as far as a TLS handshake (https) or a TCP connect (http): its fault, or undefined when it connects. */
function probeEndpoint(url: string, config: EtcdConfig, files: { ca?: Buffer | undefined; cert?: Buffer | undefined; key?: Buffer | undefined }): Promise<StoreFault | undefined> {
  const { host, port, secure } = endpointParts(url);
  return new Promise((resolve) => {
    let done = false;
    const finish = (fault: StoreFault | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(fault);
    };
    const timer = setTimeout(() => finish({ field: undefined, cause: `${url} did not answer within ${PROBE_DEADLINE} ms` }), PROBE_DEADLINE);
    timer.unref();
    const socket: net.Socket = secure
      ? tls.connect({
        host, port, ALPNProtocols: ['h2'],
        // An IP address is not a server name (RFC 6066); the certificate is still checked against it.
        ...(net.isIP(host) === 0 ? { servername: host } : {}),
        ...(files.ca !== undefined ? { ca: files.ca } : systemCAs()),
        ...(files.cert !== undefined && files.key !== undefined ? { cert: files.cert, key: files.key } : {}),
      }, () => setTimeout(() => finish(undefined), ALERT_WAIT).unref())
      : net.connect({ host, port }, () => finish(undefined));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(tlsFault(err, url, config)));
    socket.on('data', () => { /* etcd's first HTTP/2 frames: read and dropped */ });
  });
}

/**
 * Looks at why etcd is unreachable when its client says no more than
 * "no connection established": connects to each endpoint as the client
 * does (TLS with the same CA and client certificate) and names the field
 * at fault. Undefined when every endpoint connects (the cause is elsewhere).
 */
export async function probe(config: EtcdConfig, files: { ca?: Buffer | undefined; cert?: Buffer | undefined; key?: Buffer | undefined }): Promise<StoreFault | undefined> {
  const faults = await Promise.all(config.endpoints.map((url) => probeEndpoint(url, config, files)));
  // A fault in the config first: it is the one to fix.
  return faults.find((f) => f?.field !== undefined) ?? faults.find((f) => f !== undefined);
}
