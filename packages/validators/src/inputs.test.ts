// The shared input schemas refuse control characters where text cannot have them, on both doors.
import { describe, expect, it } from "vitest";
import { impersonateInput, searchCoworkersInput, signInInput } from "./inputs";

const CONTROLS = [
  "\u0000",
  "\u0001",
  "\u0007",
  "\u0008",
  "\u000b",
  "\u000c",
  "\u001b",
  "\u001f",
  "\u007f",
];

describe("control characters", () => {
  it("are refused in a reason, except tab and line breaks", () => {
    for (const control of CONTROLS) {
      const parsed = impersonateInput.safeParse({ coworkerId: 42, reason: `a${control}b` });
      expect(parsed.success, JSON.stringify(control)).toBe(false);
      expect(parsed.error?.issues[0]).toMatchObject({
        path: ["reason"],
        message: "must not contain control characters",
      });
    }
    const text = "line one\r\nline two\tand a tab";
    expect(impersonateInput.parse({ coworkerId: 42, reason: text }).reason).toBe(text);
  });

  it("are refused in a return path, a username and a search query, tab and newline included", () => {
    for (const control of [...CONTROLS, "\t", "\n", "\r"]) {
      expect(
        impersonateInput.safeParse({ coworkerId: 42, returnPath: `/team${control}` }).success,
      ).toBe(false);
      expect(
        signInInput.safeParse({ email: `a${control}@b.test`, password: "x" }).success,
        JSON.stringify(control),
      ).toBe(false);
      expect(searchCoworkersInput.safeParse({ query: `no${control}ra` }).success).toBe(false);
    }
    expect(impersonateInput.parse({ coworkerId: 42, returnPath: "/team?x=1" }).returnPath).toBe(
      "/team?x=1",
    );
    expect(signInInput.parse({ email: " ada@demo.test ", password: "x\u0000y" })).toEqual({
      email: "ada@demo.test",
      // Passwords are compared as given, never stored or queried: any character may be in one.
      password: "x\u0000y",
    });
    expect(searchCoworkersInput.parse({ query: "Nora Ñ" }).query).toBe("Nora Ñ");
  });
});
