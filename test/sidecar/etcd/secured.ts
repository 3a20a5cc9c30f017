import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Etcd3 } from 'etcd3';
import type { EtcdServer } from './etcd.js';

/**
 * A secured etcd for the tests: throwaway certificates made with `openssl`
 * in a temp dir (a CA, etcd's server certificate for 127.0.0.1, a client
 * certificate, and a second CA that signed none of them), and etcd's
 * authentication turned on with a root user and a user whose role may
 * read and write one prefix only.
 */

const run = promisify(execFile);

export interface Certs {
  dir: string;
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
  /** A CA that signed neither certificate. */
  otherCA: string;
}

type Tap = { teardown(fn: () => unknown): void };

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir, timeout: 20_000 });
}

/** EC keys: fast to make, and etcd (Go) and Node both take them. */
async function keyFor(dir: string, name: string): Promise<string> {
  await openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  return path.join(dir, `${name}.key`);
}

async function selfSigned(dir: string, name: string): Promise<string> {
  await keyFor(dir, name);
  await openssl(dir, 'req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-days', '2', '-out', `${name}.crt`);
  return path.join(dir, `${name}.crt`);
}

async function signed(dir: string, name: string, ext: string): Promise<{ cert: string; key: string }> {
  const key = await keyFor(dir, name);
  await openssl(dir, 'req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
  writeFileSync(path.join(dir, `${name}.ext`), ext);
  await openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  return { cert: path.join(dir, `${name}.crt`), key };
}

/** Makes the certificates in a temp dir, removed when the test ends. */
export async function makeCerts(t: Tap): Promise<Certs> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'upshift-certs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await selfSigned(dir, 'ca');
  const otherCA = await selfSigned(dir, 'other-ca');
  const server = await signed(dir, 'etcd', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const client = await signed(dir, 'upshift', 'extendedKeyUsage=clientAuth\n');
  return { dir, ca, server, client, otherCA };
}

export const ROOT_PASSWORD = 'root-secret';

/**
 * Turns etcd's authentication on: `root`, and `user` with `password`
 * whose role reads and writes `prefix` only. Returns a client logged in as
 * root for the test's own calls, closed when the test ends.
 */
export async function enableAuth(t: Tap, etcd: EtcdServer, certs: Certs, user: string, password: string, prefix: string): Promise<Etcd3> {
  const c = etcd.client;
  await c.user('root').create(ROOT_PASSWORD);
  await c.user('root').addRole('root');
  await c.role(user).create();
  await c.role(user).grant({ permission: 'Readwrite', range: c.range({ prefix }) });
  await c.user(user).create(password);
  await c.user(user).addRole(user);
  await c.auth.authEnable();
  const root = new Etcd3({ hosts: etcd.endpoint, credentials: { rootCertificate: readFileSync(certs.ca) }, auth: { username: 'root', password: ROOT_PASSWORD } });
  t.teardown(() => root.close());
  return root;
}
