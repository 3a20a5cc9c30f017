// autocannon in a process of its own (pinned like wrk), one run per call.
//
//   node ac-child.mjs '<json options>'  → one JSON line
// options: { url, connections, seconds, method?, headers?, bodySize? }
import autocannon from 'autocannon';

const o = JSON.parse(process.argv[2]);
const result = await autocannon({
  url: o.url,
  connections: o.connections,
  duration: o.seconds,
  method: o.method ?? 'GET',
  headers: o.headers ?? {},
  body: o.bodySize ? Buffer.alloc(o.bodySize, 'u') : undefined,
  pipelining: 1,
});
const lat = result.latency;
process.stdout.write(JSON.stringify({
  requests: result.requests.total,
  seconds: result.duration,
  errors: result.errors + result.timeouts + result.non2xx,
  // autocannon reports milliseconds; the harness works in microseconds.
  p50: lat.p50 * 1000,
  p99: lat.p99 * 1000,
  bytes: result.throughput.total,
}) + '\n');
