/**
 * The least a Node process can do to refuse a request: a bare node:http server that answers every
 * request (but /healthz) with a prebuilt 503 problem and nothing else. bench/refusal-cost.ts sets
 * Divy's refusal beside it.
 */
import { createServer } from 'node:http';

const body = JSON.stringify({ type: 'urn:divy:problem:overloaded', title: 'Service Unavailable', status: 503, detail: 'The service is overloaded; retry after the time in Retry-After.' });
const refusalHeaders = { 'content-type': 'application/problem+json; charset=utf-8', 'retry-after': '1', 'content-length': Buffer.byteLength(body) };

const server = createServer((request, response) => {
  if (request.url === '/healthz') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"status":"ok"}');
    return;
  }
  response.writeHead(503, refusalHeaders);
  response.end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env['PORT']), '127.0.0.1');
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
