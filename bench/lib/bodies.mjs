// Response bodies the backends serve, by path: 100 bytes (the usual small
// API answer), 64 KiB (bulk), and a short answer to uploads.
const small = Buffer.alloc(100, 'a');
small[99] = 0x0a;
const big = Buffer.alloc(64 * 1024, 'b');
const ok = Buffer.from('ok\n');

export const BODIES = { '/': small, '/64k': big, '/upload': ok };
export const UPLOAD_SIZE = 1024 * 1024;
