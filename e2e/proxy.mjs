// A loopback proxy in front of the real server that can misbehave on
// purpose: drop the answer after the server has stored a batch, or answer
// 500 or 429 itself for a while. Everything else passes through untouched.

import http from 'node:http';
import { once } from 'node:events';
import { stopAfterTest } from './helpers.mjs';

export async function startProxy(targetPort) {
  const faults = [];
  const seen = { sync: 0, failed: 0 };
  const server = http.createServer((req, res) => {
    const isSync = req.method === 'POST' && req.url.startsWith('/api/v1/sync');
    const fault = isSync ? faults.shift() : undefined;
    if (isSync) seen.sync += 1;
    if (fault === 'error-500' || fault === 'rate-limit') {
      seen.failed += 1;
      req.resume();
      const status = fault === 'error-500' ? 500 : 429;
      const headers = { 'content-type': 'application/json' };
      if (status === 429) headers['retry-after'] = '1';
      res.writeHead(status, headers);
      res.end(JSON.stringify({ error: status === 500 ? 'injected failure' : 'too many requests; wait 1 s' }));
      return;
    }
    const upstream = http.request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        if (fault === 'drop-after-store') {
          // Read the whole answer (the server has committed), then cut the
          // phone off without a word, as a dropped connection would.
          seen.failed += 1;
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  return stopAfterTest({
    url: `http://127.0.0.1:${port}`,
    seen,
    /** Queues faults for the next sync requests, in order. */
    inject(...next) { faults.push(...next); },
    async stop() {
      if (!server.listening) return;
      server.closeAllConnections();
      server.close();
    },
  });
}
