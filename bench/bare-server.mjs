// The comparison point for HTTP benchmarks: a bare node:http server that reads the request
// and answers a constant (JSON by default, or the text given as its argument), started as
// its own process. Prints "listening on http://127.0.0.1:PORT" once it listens.
//   node bench/bare-server.mjs [TEXT]
import { createServer } from 'node:http';

const text = process.argv[2];
const body = text ?? '{"ok":true}';
const type = text === undefined ? 'application/json' : 'text/plain; charset=utf-8';
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
