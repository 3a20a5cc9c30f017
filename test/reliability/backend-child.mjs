// A backend for the reliability scenarios, run as its own process so that a
// scenario can SIGKILL it. argv: <name> [answer|hang|stall] [port].
// answer: HTTP, replies with its name (X-Backend: <name>), also to requests
//         its parser refuses, so a reply always says who sent it.
// hang:   accepts connections, reads, never writes.
// stall:  answers a response head promising 100 bytes, sends 7, then nothing.
// flaky:  as answer, but 1 request in 100, at random, gets a 500.
import http from 'node:http';
import net from 'node:net';

const [name = 'backend', behaviour = 'answer', portArg = '0'] = process.argv.slice(2);
let server;
if (behaviour === 'answer' || behaviour === 'flaky') {
  const failShare = behaviour === 'flaky' ? 0.01 : 0;
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (Math.random() < failShare) {
        res.writeHead(500, { 'X-Backend': name, 'Content-Length': 0 });
        res.end();
        return;
      }
      res.writeHead(200, { 'X-Backend': name, 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(name) });
      res.end(name);
    });
  });
  server.keepAliveTimeout = 2000;
  server.on('clientError', (err, sock) => {
    if (sock.writable) sock.end(`HTTP/1.1 400 Bad Request\r\nX-Backend: ${name}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else sock.destroy();
  });
  // CONNECT and Upgrade are answered, not dropped: a drop would look like a crash to the proxy.
  const refuse = (req, sock) => { sock.on('error', () => {}); sock.end(`HTTP/1.1 405 Method Not Allowed\r\nX-Backend: ${name}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`); };
  server.on('connect', refuse);
  // An Expect other than 100-continue: Node would answer 417 itself, unsigned.
  server.on('checkExpectation', (req, res) => { res.writeHead(417, { 'X-Backend': name, 'Content-Length': 0 }); res.end(); });
  server.on('upgrade', refuse);
} else if (behaviour === 'hang') {
  server = net.createServer((sock) => { sock.on('error', () => {}); sock.resume(); });
} else if (behaviour === 'stall') {
  server = net.createServer((sock) => {
    sock.on('error', () => {});
    let seen = '';
    sock.on('data', (d) => {
      if (seen === null) return;
      seen += d.toString('latin1');
      if (seen.includes('\r\n\r\n')) {
        seen = null;
        sock.write(`HTTP/1.1 200 OK\r\nX-Backend: ${name}\r\nContent-Length: 100\r\n\r\npartial`);
      }
    });
  });
} else {
  throw new Error(`unknown behaviour ${behaviour}`);
}
server.listen(Number(portArg), '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
});
process.on('disconnect', () => process.exit(0));
