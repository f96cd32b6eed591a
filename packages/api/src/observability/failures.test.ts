// A 500's log line names what went wrong (message, stack and causes), not the wrappers the doors
// put around it.
import { TRPCError } from "@trpc/server";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DomainError, domainErrorOf, toTRPCError } from "../errors";
import { logFailure } from "./failures";
import { logger } from "./logger";

describe("logFailure", () => {
  const captured: string[] = [];
  beforeAll(() => {
    const destination = (logger as unknown as Record<symbol, { write(line: string): boolean }>)[
      pino.symbols.streamSym
    ]!;
    vi.spyOn(destination, "write").mockImplementation((chunk: string) => {
      captured.push(String(chunk));
      return true;
    });
  });
  afterAll(() => vi.restoreAllMocks());
  const lineOf = (requestId: string) =>
    captured
      .flatMap((chunk) => chunk.split("\n"))
      .filter((line) => line.includes(requestId))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it("logs a bug's own message, stack and cause chain, as the tRPC middleware and REST pass it on", () => {
    const root = Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
    const bug = new Error("could not write the grant", { cause: root });
    // What a procedure's failure becomes: tRPC wraps it, the error mapping wraps that again.
    const thrown = toTRPCError(
      domainErrorOf(new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: bug })),
    );
    expect(logFailure(thrown, "req-cause-1", { door: "rest" }).code).toBe("internal");
    const [line] = lineOf("req-cause-1");
    expect(line).toMatchObject({
      level: "error",
      msg: "unexpected error",
      err: {
        type: "Error",
        message: "could not write the grant",
        stack: expect.stringContaining("failures.test.ts") as string,
        cause: { message: "no space left on device", code: "ENOSPC" },
      },
    });
  });

  it("keeps the cause of an outage in its warning", () => {
    const outage = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
      code: "ECONNREFUSED",
    });
    const thrown = toTRPCError(
      domainErrorOf(new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: outage })),
    );
    expect(logFailure(thrown, "req-cause-2").code).toBe("unavailable");
    expect(lineOf("req-cause-2")[0]).toMatchObject({
      level: "warn",
      err: { message: "connect ECONNREFUSED 127.0.0.1:5432", code: "ECONNREFUSED" },
    });
  });

  it("writes nothing for what tRPC itself refuses: wrong method, media type, input", () => {
    for (const code of [
      "METHOD_NOT_SUPPORTED",
      "UNSUPPORTED_MEDIA_TYPE",
      "BAD_REQUEST",
      "PARSE_ERROR",
    ] as const) {
      const domain = logFailure(new TRPCError({ code }), `req-caller-${code}`);
      expect(domain.status, code).toBeLessThan(500);
      expect(lineOf(`req-caller-${code}`), code).toEqual([]);
    }
    logFailure(new DomainError("invalid_client", "Unknown client."), "req-caller-client");
    expect(lineOf("req-caller-client")).toEqual([]);
  });
});
