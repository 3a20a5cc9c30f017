// Config files for the nginx and HAProxy processes the harness starts: all
// paths (pid, logs, temp) under the run's temp dir, one worker / one thread,
// loopback only.
import fs from 'node:fs';
import path from 'node:path';
import { BODIES } from './bodies.mjs';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function nginxCommon(dir) {
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  return `
${asRoot ? 'user root;' : ''}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 19000; multi_accept on; }
`;
}

function nginxHttpCommon(dir) {
  return `
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 0;
  tcp_nodelay on;
`;
}

/** A fixed-response backend: the same bodies the Node backend serves. */
export function nginxBackend(dir, port) {
  fs.mkdirSync(dir, { recursive: true });
  const files = path.join(dir, 'files');
  fs.mkdirSync(files, { recursive: true });
  fs.writeFileSync(path.join(files, '64k'), BODIES['/64k']);
  const conf = `${nginxCommon(dir)}
http {
${nginxHttpCommon(dir)}
  sendfile on;
  default_type text/plain;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = / { return 200 "${'a'.repeat(99)}\\n"; }
    location = /64k { alias ${files}/64k; }
    # The body is read and dropped; the answer is short.
    location = /upload { return 200 "ok\\n"; }
  }
}
`;
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, conf);
  return { cmd: 'nginx', args: ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', file] };
}

/** nginx as a reverse proxy with a pool of kept-alive upstream connections. */
export function nginxProxy(dir, port, backendPort) {
  fs.mkdirSync(dir, { recursive: true });
  const conf = `${nginxCommon(dir)}
http {
${nginxHttpCommon(dir)}
  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 512;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
    }
  }
}
`;
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, conf);
  return { cmd: 'nginx', args: ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', file] };
}

/** HAProxy, one thread, in `mode http` (with connection reuse) or `mode tcp`. */
export function haproxy(dir, port, backendPort, mode) {
  fs.mkdirSync(dir, { recursive: true });
  const http = mode === 'http';
  const conf = `global
  nbthread 1
  maxconn 9000
  pidfile ${dir}/haproxy.pid

defaults
  mode ${mode}
  maxconn 9000
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
${http ? '  option http-keep-alive\n  http-reuse always\n  # Without it a small first chunk is held back.\n  option http-no-delay\n' : ''}
frontend front
  bind 127.0.0.1:${port}
  default_backend back

backend back
  server s1 127.0.0.1:${backendPort}
`;
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, conf);
  // -db: stay in the foreground, so the harness owns the process.
  return { cmd: 'haproxy', args: ['-db', '-f', file] };
}
