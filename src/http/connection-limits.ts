/**
 * Limits of the connection layer: how long a client may take to send a request, how long an idle
 * kept-alive connection stays open, and how many connections are open at once. Stalled clients
 * are cut, logged at warn, and answered with a problem body written straight onto the socket, since
 * such errors arise before Fastify has a request to reply to.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPES, type ProblemFields } from './problem.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';

export interface ConnectionLimits {
  /** The whole request, body included, must arrive within this time (REQUEST_TIMEOUT_MS). */
  readonly request_timeout_ms: number;
  /** The request line and headers must arrive within this time (HEADERS_TIMEOUT_MS); at most the request timeout. */
  readonly headers_timeout_ms: number;
  /** How long an idle kept-alive connection stays open between requests (KEEP_ALIVE_TIMEOUT_MS). */
  readonly keep_alive_timeout_ms: number;
  /** Most connections open at once; more are closed as they arrive (MAX_CONNECTIONS). */
  readonly max_connections: number;
}

/** The range every timeout setting must fall in, in milliseconds. */
export const TIMEOUT_MS_MIN = 100;
export const TIMEOUT_MS_MAX = 3_600_000;
export const MAX_CONNECTIONS_CEILING = 1_000_000;

export const REQUEST_TIMEOUT_MS_DEFAULT = 30_000;
/** The default headers timeout, or the request timeout when that is shorter. */
export const HEADERS_TIMEOUT_MS_DEFAULT = 10_000;
export const KEEP_ALIVE_TIMEOUT_MS_DEFAULT = 5000;
export const MAX_CONNECTIONS_DEFAULT = 10_000;

/** The limits, with a default for each one not given. */
export function connectionLimits(given: Partial<ConnectionLimits> = {}): ConnectionLimits {
  const request_timeout_ms = given.request_timeout_ms ?? REQUEST_TIMEOUT_MS_DEFAULT;
  const limits = {
    request_timeout_ms,
    headers_timeout_ms: given.headers_timeout_ms ?? Math.min(HEADERS_TIMEOUT_MS_DEFAULT, request_timeout_ms),
    keep_alive_timeout_ms: given.keep_alive_timeout_ms ?? KEEP_ALIVE_TIMEOUT_MS_DEFAULT,
    max_connections: given.max_connections ?? MAX_CONNECTIONS_DEFAULT,
  };
  if (limits.headers_timeout_ms > limits.request_timeout_ms) {
    throw new RangeError(`headers_timeout_ms (${limits.headers_timeout_ms}) must be at most request_timeout_ms (${limits.request_timeout_ms})`);
  }
  return limits;
}

/**
 * A connection that carries no bytes either way for this long is closed: a client that stops
 * reading its answer. Twice the request timeout, so a stalled request meets the request timeout
 * (and gets its 408) first; idle kept-alive connections meet the shorter keep-alive timeout.
 */
export function idleSocketTimeoutMs(limits: ConnectionLimits): number {
  return 2 * limits.request_timeout_ms;
}

/**
 * Node checks the header and request timeouts on a timer (every 30 s by default, which would let
 * a short timeout run far over); check four times per headers timeout, at most once a second.
 */
function checkingIntervalMs(limits: ConnectionLimits): number {
  return Math.max(25, Math.min(1000, Math.floor(limits.headers_timeout_ms / 4)));
}

/** What a connection-level error answers: a status and its problem. */
interface ConnectionProblem {
  readonly status: number;
  readonly problem: ProblemFields;
  /** What went wrong, for the log line. */
  readonly reason: string;
}

/** How long a connection refused with a problem stays open for the client to read it. */
const CLOSE_AFTER_ANSWER_MS = 1000;

const NO_REQUEST_ID = 'The request never reached the service, so it has no request id.';

function connectionProblem(code: string | undefined, limits: ConnectionLimits, requestId: string | undefined): ConnectionProblem {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT': {
      const inBody = requestId !== undefined;
      const limit = inBody ? `REQUEST_TIMEOUT_MS, ${limits.request_timeout_ms} ms` : `HEADERS_TIMEOUT_MS, ${limits.headers_timeout_ms} ms`;
      return {
        status: 408,
        reason: inBody ? 'request timeout: the body did not arrive in time' : 'headers timeout: the request line and headers did not arrive in time',
        problem: {
          type: PROBLEM_TYPES.requestTimeout,
          title: 'Request Timeout',
          status: 408,
          detail: `The ${inBody ? 'request body' : 'request headers'} did not arrive within the configured limit (${limit}); the connection is closed.`,
        },
      };
    }
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        reason: 'header block too large',
        problem: {
          type: PROBLEM_TYPES.headersTooLarge,
          title: 'Request Header Fields Too Large',
          status: 431,
          detail: `The request line and headers exceed the server's limit. ${NO_REQUEST_ID}`,
        },
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return {
        status: 413,
        reason: 'chunk extensions too large',
        problem: {
          type: PROBLEM_TYPES.bodyTooLarge,
          title: 'Payload Too Large',
          status: 413,
          detail: `The chunk extensions of the body exceed the server's limit. ${NO_REQUEST_ID}`,
        },
      };
    default:
      return {
        status: 400,
        reason: `malformed request (${code ?? 'unknown parser error'})`,
        problem: {
          type: PROBLEM_TYPES.malformedRequest,
          title: 'Bad Request',
          status: 400,
          detail: `The request is not well-formed HTTP/1.1. ${NO_REQUEST_ID}`,
        },
      };
  }
}

/** A complete HTTP/1.1 response, written by hand onto a socket no Fastify reply owns. */
function rawProblemResponse(status: number, body: string, requestId: string | undefined): string {
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    `content-type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
    `content-length: ${Buffer.byteLength(body)}`,
    ...(requestId === undefined ? [] : [`${REQUEST_ID_HEADER}: ${requestId}`]),
    'connection: close',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}

/** A socket as Node's HTTP server leaves it: the response in progress, if any. */
type ServerSocket = Socket & { _httpMessage?: ServerResponse | null };

/** The Fastify constructor options that carry the limits. */
export function connectionServerOptions(limits: ConnectionLimits) {
  return {
    requestTimeout: limits.request_timeout_ms,
    connectionTimeout: idleSocketTimeoutMs(limits),
    keepAliveTimeout: limits.keep_alive_timeout_ms,
    http: { headersTimeout: limits.headers_timeout_ms, connectionsCheckingInterval: checkingIntervalMs(limits) },
  };
}

/**
 * The connection guard of one app: the `clientErrorHandler` to give Fastify, and `install`, which
 * caps connections and answers unmet expectations once the app exists.
 */
/** `onProblem` hears the type of each problem answered on a connection, outside any request (for metrics). */
export function connectionGuard(limits: ConnectionLimits, onProblem: (type: string) => void = () => {}) {
  /** The request each socket is receiving, so a timeout can name it. */
  const requestOfSocket = new WeakMap<Socket, string>();

  function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
    const requestId = requestOfSocket.get(socket);
    const remote_address = socket.remoteAddress;
    if (error.code === 'ECONNRESET' || socket.destroyed) {
      this.log.debug({ request_id: requestId, remote_address, error_code: error.code }, 'client connection reset');
      return;
    }
    const { status, problem, reason } = connectionProblem(error.code, limits, requestId);
    // Never the error itself: a parser error carries the raw bytes it choked on.
    this.log.warn({ request_id: requestId, remote_address, error_code: error.code, status_code: status }, `closing client connection: ${reason}`);
    const response = (socket as ServerSocket)._httpMessage;
    if (socket.writable && (response === null || response === undefined || !response.headersSent)) {
      const body = JSON.stringify(requestId === undefined ? problem : { ...problem, request_id: requestId });
      socket.end(rawProblemResponse(status, body, requestId));
      onProblem(problem.type);
    }
    // The end lets the client read the answer; a client that does not read it is cut a little later.
    setTimeout(() => socket.destroy(), CLOSE_AFTER_ANSWER_MS).unref();
  }

  function install(app: FastifyInstance): void {
    app.server.maxConnections = limits.max_connections;
    // Callback hooks: an async one costs a promise on every request.
    app.addHook('onRequest', (request, _reply, done) => {
      requestOfSocket.set(request.raw.socket, request.id);
      done();
    });
    app.addHook('onResponse', (request, _reply, done) => {
      requestOfSocket.delete(request.raw.socket);
      done();
    });

    // Refused connections are counted and logged at most once a second, so a flood cannot flood the log.
    let dropped = 0;
    let lastLogged = 0;
    app.server.on('drop', (data?: { remoteAddress?: string }) => {
      dropped += 1;
      const now = Date.now();
      if (now - lastLogged < 1000) return;
      app.log.warn({ dropped_connections: dropped, max_connections: limits.max_connections, remote_address: data?.remoteAddress }, 'refusing connections: MAX_CONNECTIONS reached');
      dropped = 0;
      lastLogged = now;
    });

    // A connection idle for idleSocketTimeoutMs mid-request (or a kept-alive one past its timeout).
    app.server.on('timeout', (socket: Socket) => {
      const request_id = requestOfSocket.get(socket);
      if (request_id !== undefined) app.log.warn({ request_id, remote_address: socket.remoteAddress }, 'closing idle client connection: no traffic within twice REQUEST_TIMEOUT_MS');
      socket.destroy();
    });

    // `Expect:` anything but 100-continue; Node would answer a bare 417.
    app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
      const request_id = requestIdOf(request);
      app.log.warn({ request_id, remote_address: request.socket.remoteAddress, status_code: 417 }, 'refusing an unsupported Expect header');
      const body = JSON.stringify({
        type: PROBLEM_TYPES.expectationFailed,
        title: 'Expectation Failed',
        status: 417,
        detail: 'The only expectation the service meets is Expect: 100-continue.',
        request_id,
      });
      response.writeHead(417, {
        'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
        'content-length': Buffer.byteLength(body),
        [REQUEST_ID_HEADER]: request_id,
        connection: 'close',
      });
      response.end(body);
    });
  }

  return { clientErrorHandler, install };
}
