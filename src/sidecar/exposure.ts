import type { Logger } from 'pino';

/** An address only this host can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./i.test(host);
}

/**
 * A config API that other hosts can reach and that takes no token lets
 * anyone there change routing. The sidecar still starts (the prototype's
 * configs listen so), but says so at warn level, with the fix.
 */
export function warnIfUnauthenticated(log: Logger, api: { host: string; token: string | undefined }, port: number): void {
  if (api.token !== undefined || isLoopback(api.host)) return;
  log.warn({ event: 'unauthenticated', api: { host: api.host, port } }, `the config API listens on ${api.host} without a token: anyone who can reach port ${port} can change routing. Set configService.token (or --api-token, UPSHIFT_API_TOKEN), or listen on 127.0.0.1`);
}
