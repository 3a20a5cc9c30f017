import type { Test } from 'tap';
import { createProxy, type Proxy, type ProxyOptions } from '../../src/core/index.js';
import { backend, type Backend, type Handler } from './net.js';

/** Starts a proxy on 127.0.0.1:0 that is closed when the test ends. */
export async function proxyFor(t: Test, options: ProxyOptions = {}): Promise<Proxy> {
  const proxy = await createProxy({ host: '127.0.0.1', ...options });
  t.teardown(() => proxy.close({ drainTimeout: 0 }));
  return proxy;
}

/** Starts backends closed when the test ends. */
export async function backends(t: Test, names: string[], handler?: (name: string) => Handler): Promise<Backend[]> {
  const list = await Promise.all(names.map((n) => backend(n, handler?.(n))));
  t.teardown(() => Promise.all(list.map((b) => b.close())));
  return list;
}

export const at = (b: Backend | number) => [{ hostname: '127.0.0.1', port: typeof b === 'number' ? b : b.port }];
