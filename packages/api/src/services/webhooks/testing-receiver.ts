// A real HTTP receiver on loopback for the webhook tests (node:http): it records each request
// (headers, raw body, when) and answers with the status its `answer` function picks, or never
// (`hang`), so tests see exactly what went over the wire.
import { createServer, type IncomingHttpHeaders } from "node:http";
import { type AddressInfo, type Socket } from "node:net";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Receiver {
  port: number;
  /** `http://127.0.0.1:<port>` + path. */
  url(path?: string): string;
  received: ReceivedRequest[];
  /** The status (and headers) to answer a request with; "hang" answers nothing. */
  answer: (
    request: ReceivedRequest,
    index: number,
  ) => number | "hang" | [number, Record<string, string>];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const receiver: Receiver = {
    port: 0,
    url: (path = "/hook") => `http://127.0.0.1:${receiver.port}${path}`,
    received: [],
    answer: () => 200,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const received: ReceivedRequest = {
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      receiver.received.push(received);
      const answer = receiver.answer(received, receiver.received.length - 1);
      if (answer === "hang") return;
      const [status, headers] = typeof answer === "number" ? [answer, {}] : answer;
      response.writeHead(status, headers).end();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.port = (server.address() as AddressInfo).port;
  return receiver;
}
