// A TCP proxy the test owns, between a portal and PostgreSQL: `cut()` destroys every open
// connection and stops accepting new ones (the database "goes away"), `restore()` brings it back
// on the same port.
import { createServer, connect, type Server, type Socket } from "node:net";

export interface TcpProxy {
  port: number;
  /** The given postgres:// URL, rewritten to go through the proxy. */
  urlFor(databaseUrl: string): string;
  cut(): Promise<void>;
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
        client.pipe(backend);
        backend.pipe(client);
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
    async restore() {
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
