// A TCP proxy the test owns, between a portal and PostgreSQL: `cut()` destroys every open
// connection and stops accepting new ones (the database "goes away"), `blackHole()` keeps every
// connection open but holds whatever is sent either way (a network partition: nothing is
// refused, nothing arrives), `restore()` brings it back on the same port and delivers, late and
// in order, what was held.
import { createServer, connect, type Server, type Socket } from "node:net";

export interface TcpProxy {
  port: number;
  /** The given postgres:// URL, rewritten to go through the proxy. */
  urlFor(databaseUrl: string): string;
  cut(): Promise<void>;
  blackHole(): void;
  restore(): Promise<void>;
  readonly isCut: boolean;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startTcpProxy(upstream: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  let accepted = 0;
  let isCut = false;
  let holding = false;
  /** What arrived while black-holed, per destination, in order. */
  const held = new Map<Socket, Buffer[]>();
  const forward = (from: Socket, to: Socket) =>
    from.on("data", (chunk: Buffer) => {
      const queue = held.get(to);
      if (holding || queue) {
        if (queue) queue.push(chunk);
        else held.set(to, [chunk]);
      } else to.write(chunk);
    });

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((client) => {
        accepted++;
        const backend = connect(upstream.port, upstream.host);
        sockets.add(client);
        sockets.add(backend);
        const drop = () => {
          client.destroy();
          backend.destroy();
          sockets.delete(client);
          sockets.delete(backend);
        };
        client.on("error", drop).on("close", drop);
        backend.on("error", drop).on("close", drop);
        forward(client, backend);
        forward(backend, client);
      });
      next.once("error", reject);
      next.listen(port, "127.0.0.1", () => {
        const address = next.address();
        port = typeof address === "object" && address ? address.port : port;
        server = next;
        resolve();
      });
    });

  await listen();
  const proxy: TcpProxy = {
    get port() {
      return port;
    },
    urlFor(databaseUrl: string) {
      const url = new URL(databaseUrl);
      url.hostname = "127.0.0.1";
      url.port = String(port);
      return url.toString();
    },
    async cut() {
      isCut = true;
      const closing = server;
      server = null;
      const closed = closing
        ? new Promise<void>((resolve) => closing.close(() => resolve()))
        : Promise.resolve();
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closed;
    },
    blackHole() {
      holding = true;
    },
    async restore() {
      if (holding) {
        holding = false;
        for (const [to, chunks] of held)
          if (!to.destroyed) for (const chunk of chunks) to.write(chunk);
        held.clear();
      }
      if (server) return;
      // The port was just freed; retry briefly in case the kernel still holds it.
      for (let attempt = 0; ; attempt++) {
        try {
          await listen();
          break;
        } catch (error) {
          if (attempt > 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      isCut = false;
    },
    get isCut() {
      return isCut;
    },
    get accepted() {
      return accepted;
    },
    async close() {
      await proxy.cut();
    },
  };
  return proxy;
}
