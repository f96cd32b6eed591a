// The load generator's HTTP/1.1 client: keep-alive connections over plain sockets, one request
// at a time on each, the request written in one piece and the answer read with the least parsing
// that is still correct (Content-Length, chunked, or until the server closes). The generator runs
// on the same two cores as the server and PostgreSQL, so every microsecond it spends is taken
// from what it measures; a general-purpose client (undici) cost three to four times as much CPU
// per request.
import { connect, type Socket } from "node:net";

export interface HttpResponse {
  status: number;
  text: string;
}

export type Send = (
  method: "GET" | "POST",
  path: string,
  headers?: Record<string, string>,
  body?: string,
) => Promise<HttpResponse>;

/** A connection unused for longer than this is not trusted to be open (node's server: 5 s). */
const IDLE_LIMIT_MS = 4000;
const HEADER_END = Buffer.from("\r\n\r\n");

interface Waiting {
  resolve(response: HttpResponse): void;
  reject(error: Error): void;
  /** No body is sent with the answer to HEAD (none is used here) or with 204/304. */
  method: string;
}

/** Reads one answer from the bytes received so far; null while it is incomplete. */
export function parseResponse(
  bytes: Buffer,
  method: string,
  closed: boolean,
): { response: HttpResponse; keepAlive: boolean; used: number } | null {
  const headerEnd = bytes.indexOf(HEADER_END);
  if (headerEnd < 0) {
    if (closed) throw new Error("connection closed before the answer's headers");
    return null;
  }
  const head = bytes.toString("latin1", 0, headerEnd).split("\r\n");
  const statusMatch = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? "");
  if (!statusMatch) throw new Error(`not an HTTP answer: ${JSON.stringify(head[0])}`);
  const status = Number(statusMatch[1]);
  let length: number | null = null;
  let chunked = false;
  let keepAlive = head[0]!.startsWith("HTTP/1.1");
  for (let index = 1; index < head.length; index++) {
    const line = head[index]!;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") length = Number(value);
    else if (name === "transfer-encoding") chunked = /\bchunked\b/i.test(value);
    else if (name === "connection") keepAlive = !/\bclose\b/i.test(value);
  }
  const bodyStart = headerEnd + HEADER_END.length;
  if (method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { response: { status, text: "" }, keepAlive, used: bodyStart };
  }
  if (chunked) {
    const parts: Buffer[] = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = bytes.indexOf("\r\n", at);
      if (lineEnd < 0) return incomplete(closed);
      const size = parseInt(bytes.toString("latin1", at, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error("bad chunk size");
      at = lineEnd + 2;
      if (size === 0) {
        // No trailers is an empty line; trailers end with one.
        let end = at + 2;
        if (bytes.toString("latin1", at, at + 2) !== "\r\n") {
          const trailersEnd = bytes.indexOf(HEADER_END, at);
          if (trailersEnd < 0) return incomplete(closed);
          end = trailersEnd + HEADER_END.length;
        } else if (bytes.length < end) return incomplete(closed);
        const text = Buffer.concat(parts).toString("utf8");
        return { response: { status, text }, keepAlive, used: end };
      }
      if (bytes.length < at + size + 2) return incomplete(closed);
      parts.push(bytes.subarray(at, at + size));
      at += size + 2;
    }
  }
  if (length !== null) {
    if (bytes.length < bodyStart + length) return incomplete(closed);
    const text = bytes.toString("utf8", bodyStart, bodyStart + length);
    return { response: { status, text }, keepAlive, used: bodyStart + length };
  }
  // Neither: the body runs until the server closes the connection.
  if (!closed) return null;
  return {
    response: { status, text: bytes.toString("utf8", bodyStart) },
    keepAlive: false,
    used: bytes.length,
  };
}

function incomplete(closed: boolean): null {
  if (closed) throw new Error("connection closed in the middle of an answer");
  return null;
}

class Connection {
  private readonly socket: Socket;
  private received: Buffer = Buffer.alloc(0);
  private waiting: Waiting | null = null;
  private ended = false;
  idleSince = performance.now();

  constructor(
    host: string,
    port: number,
    private readonly onEnd: (connection: Connection) => void,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on("data", (chunk: Buffer) => {
      this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
      this.settle(false);
    });
    this.socket.on("error", (error) => this.end(error));
    this.socket.on("close", () => this.end());
  }

  get open() {
    return !this.ended;
  }

  request(method: string, text: string): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject, method };
      this.socket.write(text);
    });
  }

  close() {
    this.socket.destroy();
    this.end();
  }

  /** Once, whoever closed it: an answer that runs until the close is complete now; any other fails. */
  private end(error?: Error) {
    if (this.ended) return;
    this.ended = true;
    if (this.waiting) this.settle(true);
    this.waiting?.reject(error ?? new Error("connection closed before the answer"));
    this.waiting = null;
    this.onEnd(this);
  }

  private settle(closed: boolean) {
    const waiting = this.waiting;
    if (!waiting) return;
    let parsed;
    try {
      parsed = parseResponse(this.received, waiting.method, closed);
    } catch (error) {
      this.waiting = null;
      waiting.reject(error as Error);
      this.close();
      return;
    }
    if (!parsed) return;
    this.waiting = null;
    this.received = this.received.subarray(parsed.used);
    this.idleSince = performance.now();
    if (!parsed.keepAlive) this.close();
    waiting.resolve(parsed.response);
  }
}

/**
 * Up to `connections` keep-alive connections to `origin`; a request waits for a free one. Every
 * request carries Host and, with a body, Content-Length; the caller's headers are sent as given.
 */
export function createClient(origin: string, connections: number) {
  const { hostname, port } = new URL(origin);
  const host = hostname.replace(/^\[|\]$/g, "");
  const hostHeader = `host: ${hostname}:${port}\r\n`;
  const idle: Connection[] = [];
  const waiters: ((connection: Connection) => void)[] = [];
  let count = 0;
  const gone = (connection: Connection) => {
    const index = idle.indexOf(connection);
    if (index >= 0) idle.splice(index, 1);
    count--;
  };
  const acquire = (): Promise<Connection> => {
    while (idle.length > 0) {
      const connection = idle.pop()!;
      if (connection.open && performance.now() - connection.idleSince < IDLE_LIMIT_MS)
        return Promise.resolve(connection);
      if (connection.open) connection.close();
    }
    if (count < connections) {
      count++;
      return Promise.resolve(new Connection(host, Number(port), gone));
    }
    return new Promise((resolve) => waiters.push(resolve));
  };
  const release = (connection: Connection) => {
    if (!connection.open) {
      // A waiter gets a fresh connection in place of the one that closed.
      const waiter = waiters.shift();
      if (waiter) void acquire().then(waiter);
      return;
    }
    const waiter = waiters.shift();
    if (waiter) waiter(connection);
    else idle.push(connection);
  };
  const send: Send = async (method, path, headers = {}, body) => {
    let text = `${method} ${path} HTTP/1.1\r\n${hostHeader}`;
    for (const name in headers) text += `${name}: ${headers[name]}\r\n`;
    if (body !== undefined) text += `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    else text += "\r\n";
    const connection = await acquire();
    try {
      return await connection.request(method, text);
    } finally {
      release(connection);
    }
  };
  const close = () => {
    for (const connection of idle.splice(0)) connection.close();
    return Promise.resolve();
  };
  return { send, close };
}
