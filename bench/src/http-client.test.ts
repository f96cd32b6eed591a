// The load generator's client must read every answer correctly and keep its connections alive,
// or the benchmark measures its own mistakes.
import { createServer, type Server } from "node:http";
import { type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createClient, parseResponse } from "./http-client";

const bytes = (text: string) => Buffer.from(text, "latin1");

describe("parseResponse", () => {
  it("reads a Content-Length body and reports how many bytes it used", () => {
    const answer = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
    expect(parseResponse(bytes(`${answer}HTTP/1.1`), "GET", false)).toEqual({
      response: { status: 200, text: "hello" },
      keepAlive: true,
      used: answer.length,
    });
  });

  it("waits for the rest of a body, and fails when the connection closes first", () => {
    const partial = bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
    expect(parseResponse(partial, "GET", false)).toBeNull();
    expect(() => parseResponse(partial, "GET", true)).toThrow(/closed/);
    expect(parseResponse(bytes("HTTP/1.1 200 OK\r\nContent-Le"), "GET", false)).toBeNull();
  });

  it("decodes a chunked body, with and without trailers, only once it is complete", () => {
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const body = "5\r\nhello\r\n7\r\n, world\r\n0\r\n";
    expect(parseResponse(bytes(head + body), "GET", false)).toBeNull();
    expect(parseResponse(bytes(`${head}${body}\r\n`), "GET", false)?.response).toEqual({
      status: 200,
      text: "hello, world",
    });
    const withTrailer = `${head}${body}x-check: 1\r\n\r\n`;
    expect(parseResponse(bytes(withTrailer), "GET", false)).toMatchObject({
      response: { text: "hello, world" },
      used: withTrailer.length,
    });
  });

  it("knows 204 has no body, honours Connection: close, and reads an unsized body to the close", () => {
    expect(parseResponse(bytes("HTTP/1.1 204 No Content\r\n\r\n"), "POST", false)).toEqual({
      response: { status: 204, text: "" },
      keepAlive: true,
      used: 27,
    });
    expect(
      parseResponse(
        bytes("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
        "GET",
        false,
      )?.keepAlive,
    ).toBe(false);
    const unsized = bytes("HTTP/1.1 200 OK\r\n\r\nuntil the end");
    expect(parseResponse(unsized, "GET", false)).toBeNull();
    expect(parseResponse(unsized, "GET", true)?.response.text).toBe("until the end");
  });

  it("refuses what is not an HTTP answer", () => {
    expect(() => parseResponse(bytes("SSH-2.0-OpenSSH\r\n\r\n"), "GET", false)).toThrow(
      /not an HTTP/,
    );
  });
});

describe("createClient against node:http", () => {
  let server: Server | null = null;
  afterEach(async () => {
    await new Promise((done) => server?.close(done) ?? done(undefined));
    server = null;
  });

  async function serve(handler: Parameters<typeof createServer>[1]) {
    server = createServer(handler);
    await new Promise<void>((done) => server!.listen(0, "127.0.0.1", done));
    const sockets = new Set<Socket>();
    server.on("connection", (socket) => sockets.add(socket));
    return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
  }

  it("sends method, path, headers and body, and reuses its connections", async () => {
    const seen: string[] = [];
    const { origin, sockets } = await serve((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        seen.push(`${request.method} ${request.url} ${String(request.headers["x-test"])} ${body}`);
        response.setHeader("content-type", "application/json");
        // Chunked: no Content-Length, written in two pieces.
        response.write('{"echo":');
        response.end(`${JSON.stringify(body)}}`);
      });
    });
    const client = createClient(origin, 2);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        client.send("POST", `/echo?n=${index}`, { "x-test": "yes" }, `body ${index} ✓`),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    expect(answers.map((answer) => JSON.parse(answer.text) as unknown)).toEqual(
      Array.from({ length: 8 }, (_, index) => ({ echo: `body ${index} ✓` })),
    );
    expect(seen.sort()).toEqual(
      Array.from({ length: 8 }, (_, index) => `POST /echo?n=${index} yes body ${index} ✓`).sort(),
    );
    expect(sockets.size).toBe(2);
    await client.close();
  });

  it("opens a new connection when the server has closed an idle one", async () => {
    const { origin, sockets } = await serve((_request, response) => response.end("ok"));
    server!.keepAliveTimeout = 50;
    const client = createClient(origin, 1);
    expect(await client.send("GET", "/")).toEqual({ status: 200, text: "ok" });
    const [first] = sockets;
    await new Promise((done) => first!.once("close", done));
    expect(await client.send("GET", "/")).toEqual({ status: 200, text: "ok" });
    expect(sockets.size).toBe(2);
    await client.close();
  });

  it("fails a request whose connection breaks, and goes on with a new one", async () => {
    let calls = 0;
    const { origin } = await serve((request, response) => {
      if (++calls === 1) request.socket.destroy();
      else response.end("fine");
    });
    const client = createClient(origin, 1);
    await expect(client.send("GET", "/")).rejects.toThrow();
    expect(await client.send("GET", "/")).toEqual({ status: 200, text: "fine" });
    await client.close();
  });
});
