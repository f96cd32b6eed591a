// The one mapping from what a procedure threw to the contract's status and error code.
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import {
  DomainError,
  domainErrorOf,
  ERROR_STATUS,
  isDatabaseUnavailable,
  toTRPCError,
} from "./errors";

describe("ERROR_STATUS", () => {
  it("answers each code with the contract's status", () => {
    expect(ERROR_STATUS).toMatchObject({
      invalid_request: 400,
      unsupported_grant_type: 400,
      invalid_grant: 400,
      unauthorized: 401,
      invalid_token: 401,
      forbidden: 403,
      impersonation_disabled: 403,
      not_found: 404,
      not_impersonating: 409,
      payload_too_large: 413,
      throttled: 429,
      internal: 500,
      unavailable: 503,
    });
  });
});

describe("domainErrorOf", () => {
  it("finds a DomainError however deep in the cause chain", () => {
    const domain = new DomainError("not_found", "No such coworker in this location.");
    expect(domainErrorOf(domain)).toBe(domain);
    expect(domainErrorOf(toTRPCError(domain))).toBe(domain);
    expect(domainErrorOf(new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: domain }))).toBe(
      domain,
    );
    expect(
      domainErrorOf(new Error("outer", { cause: new Error("middle", { cause: domain }) })),
    ).toBe(domain);
  });

  it("maps tRPC's own input, size, auth and routing errors", () => {
    expect(domainErrorOf(new TRPCError({ code: "BAD_REQUEST" })).code).toBe("invalid_request");
    expect(domainErrorOf(new TRPCError({ code: "PARSE_ERROR" })).code).toBe("invalid_request");
    expect(domainErrorOf(new TRPCError({ code: "PAYLOAD_TOO_LARGE" })).status).toBe(413);
    expect(domainErrorOf(new TRPCError({ code: "UNAUTHORIZED" })).status).toBe(401);
    expect(domainErrorOf(new TRPCError({ code: "NOT_FOUND" })).status).toBe(404);
  });

  it("turns an unreachable database into 503 unavailable", () => {
    for (const code of [
      "ECONNREFUSED",
      "ETIMEDOUT",
      "CONNECTION_CLOSED",
      "57P01",
      "08006",
      "53300",
    ]) {
      const error = new TRPCError({
        code: "INTERNAL_SERVER_ERROR",
        cause: Object.assign(new Error("db"), { code }),
      });
      expect(isDatabaseUnavailable(error), code).toBe(true);
      expect(domainErrorOf(error), code).toMatchObject({ code: "unavailable", status: 503 });
    }
  });

  it("turns anything else into a 500 that says nothing of the cause", () => {
    const leaky = new Error('relation "sessions" does not exist at character 42');
    const domain = domainErrorOf(leaky);
    expect(domain).toMatchObject({ code: "internal", status: 500 });
    expect(domain.message).not.toContain("sessions");
    expect(
      domainErrorOf(Object.assign(new Error("unique violation"), { code: "23505" })).code,
    ).toBe("internal");
    expect(domainErrorOf("a string").code).toBe("internal");
    expect(domainErrorOf(null).code).toBe("internal");
  });

  it("keeps a throttled caller's wait", () => {
    expect(
      domainErrorOf(toTRPCError(new DomainError("throttled", "Slow down.", 42))).retryAfterS,
    ).toBe(42);
  });
});
