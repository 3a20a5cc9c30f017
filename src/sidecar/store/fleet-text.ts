import { table } from '../client.js';
import type { SharedStatus } from './routing.js';

/** `upshift status`'s lines about the fleet: the store, then one row per host. */
export function renderFleet(f: SharedStatus): string {
  const store = `store etcd ${f.store.endpoints.join(',')} ${f.store.prefix}: ${f.store.state}${f.store.error !== undefined ? ` (${f.store.error})` : ''}`
    + (f.store.servedFrom !== 'etcd' ? `, serving from the ${f.store.servedFrom}` : '');
  const summary = `fleet at revision ${f.revision}: ${f.hosts.length} host(s), ${f.converged ? 'converged' : 'not converged'}${f.silent.length > 0 ? `, silent: ${f.silent.join(', ')}` : ''}`;
  const rows = [['HOST', 'REVISION', 'STATE', 'PROXY', 'API', 'VERSIONS']];
  for (const h of f.hosts) {
    rows.push([
      h.id + (h.self ? ' *' : ''), String(h.revision), h.silent ? `silent since ${h.at}` : h.converged ? 'converged' : 'behind', h.addresses.proxy, h.addresses.api,
      h.versions.map((v) => `${v.version} ${v.state} ${v.share}% ${v.serversUp}/${v.servers} up${v.launch !== undefined ? ` ${v.launch}` : ''}`).join('; '),
    ]);
  }
  return `${store}\n${summary}\n${table(rows)}`;
}
