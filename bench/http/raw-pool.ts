/**
 * A pool of raw keep-alive HTTP/1.1 connections for the open-loop client. node:http's client
 * tops out near the rates the overload run offers on one core (it fell seconds behind its
 * schedule at 12000 req/s here), so requests are written as prebuilt bytes and answers read with
 * a minimal parser: status line, Content-Length, body skipped. The server answers one request per
 * connection at a time, in order.
 */
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  /** 0 when no answer came. */
  readonly status: number;
  /** Lower-cased header names; only filled when asked for. */
  readonly headers: Readonly<Record<string, string>>;
  /** Why no answer came. */
  readonly reason?: string;
}

interface Job {
  readonly bytes: Buffer;
  readonly wantHeaders: boolean;
  readonly done: (answer: RawAnswer) => void;
}

interface Connection {
  readonly socket: Socket;
  job: Job | undefined;
  buffer: Buffer;
  idleSince: number;
}

/** The server closes a connection idle for KEEP_ALIVE_TIMEOUT_MS (5 s by default); one idle for less is reused. */
const REUSE_IDLE_MS = 4000;
const HEADER_END = Buffer.from('\r\n\r\n');

export class RawPool {
  /** Taken oldest first, so that every connection keeps being used and none reaches the server's keep-alive timeout. */
  private readonly idle = new FifoQueue<Connection>();
  private readonly queue = new FifoQueue<Job>();
  private readonly open = new Set<Connection>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly maxConnections: number,
  ) {}

  static requestBytes(host: string, path: string, body: Buffer): Buffer {
    const head = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), body]);
  }

  /**
   * Opens `count` connections and waits until each is connected, so that a burst does not open
   * them all at once: more than the server's listen backlog of handshakes at once drops SYNs, and
   * the kernel retries a dropped one after 1, 3, 7 and 15 s, which would count as the server's wait.
   */
  async preconnect(count: number): Promise<void> {
    const opening: Promise<void>[] = [];
    const now = performance.now();
    for (let index = 0; index < count && this.open.size < this.maxConnections; index += 1) {
      const connection = this.connect();
      connection.idleSince = now;
      opening.push(new Promise((resolve) => connection.socket.once('connect', () => resolve()).once('error', () => resolve())));
      this.idle.push(connection);
    }
    await Promise.all(opening);
    const connected = performance.now();
    for (const connection of this.open) connection.idleSince = connected;
  }

  send(bytes: Buffer, wantHeaders: boolean): Promise<RawAnswer> {
    return new Promise((done) => this.dispatch({ bytes, wantHeaders, done }));
  }

  /** Ends every connection; requests still waiting or in flight get no answer. */
  destroy(): void {
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) job.done({ status: 0, headers: {}, reason: 'not sent before the end' });
    for (const connection of [...this.open]) connection.socket.destroy();
    while (this.idle.shift() !== undefined);
  }

  private dispatch(job: Job): void {
    const now = performance.now();
    for (let connection = this.idle.shift(); connection !== undefined; connection = this.idle.shift()) {
      if (now - connection.idleSince < REUSE_IDLE_MS && !connection.socket.destroyed) return this.start(connection, job);
      connection.socket.destroy();
    }
    if (this.open.size < this.maxConnections) return this.start(this.connect(), job);
    this.queue.push(job);
  }

  private connect(): Connection {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    const connection: Connection = { socket, job: undefined, buffer: Buffer.alloc(0), idleSince: 0 };
    this.open.add(connection);
    socket.on('data', (chunk: Buffer) => this.read(connection, chunk));
    const fail = (reason: string) => {
      this.open.delete(connection);
      const job = connection.job;
      connection.job = undefined;
      job?.done({ status: 0, headers: {}, reason });
      // A request waiting for a connection takes a new one.
      const next = this.queue.shift();
      if (next !== undefined) this.dispatch(next);
    };
    socket.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
    socket.on('close', () => fail('closed by the server'));
    return connection;
  }

  private start(connection: Connection, job: Job): void {
    connection.job = job;
    connection.socket.write(job.bytes);
  }

  private read(connection: Connection, chunk: Buffer): void {
    connection.buffer = connection.buffer.length === 0 ? chunk : Buffer.concat([connection.buffer, chunk]);
    const headerEnd = connection.buffer.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = connection.buffer.toString('latin1', 0, headerEnd);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const bodyLength = length === null ? 0 : Number(length[1]);
    const total = headerEnd + HEADER_END.length + bodyLength;
    if (connection.buffer.length < total) return;
    connection.buffer = connection.buffer.subarray(total);
    const job = connection.job;
    connection.job = undefined;
    const status = Number(head.slice(9, 12));
    job?.done({ status, headers: job.wantHeaders ? headersOf(head) : {} });
    const next = this.queue.shift();
    if (next !== undefined) return this.start(connection, next);
    connection.idleSince = performance.now();
    this.idle.push(connection);
  }
}

function headersOf(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * First in, first out, in O(1) an item: Array.prototype.shift moves every element left, and under
 * overload the queue of jobs holds many thousand, so the generator spent most of its time shifting.
 */
class FifoQueue<Item> {
  private items: (Item | undefined)[] = [];
  private head = 0;

  push(item: Item): void {
    this.items.push(item);
  }

  shift(): Item | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head += 1;
    // Drop the taken slots once they are half the array, so memory follows the backlog.
    if (this.head * 2 >= this.items.length && this.head >= 1024) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
