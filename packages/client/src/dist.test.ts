// The built package (dist/, which the build writes before the tests run) is what another service
// installs: it must not reach for the server, at run time nor in its declarations, and the router
// type spelled out in it must be the server's router as a client sees it.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  dependencies?: Record<string, string>;
  exports: Record<string, unknown>;
  files?: string[];
};

const SERVER_ONLY = ["pino", "prom-client", "postgres", "drizzle-orm", "@electric-sql/pglite"];
const isServerOnly = (name: string) =>
  name.startsWith("@cowork/") ||
  SERVER_ONLY.some((server) => name === server || name.startsWith(`${server}/`));

const built = () => {
  const names = readdirSync(dist).filter((name) => /\.(d\.ts|js)$/.test(name));
  expect(names, "dist/ has the built package: run the build first").toEqual(
    expect.arrayContaining(["index.js", "index.d.ts"]),
  );
  return names.map((name) => ({ name, text: readFileSync(join(dist, name), "utf8") }));
};

/** Every module a built file names: static and dynamic imports, re-exports, require. */
const specifiers = (text: string) =>
  [
    // The keyword, then space or a parenthesis, then the quoted name: a word "from" inside a
    // string (`["from", "to"]`) is not an import.
    ...text.matchAll(/(?<!["'\w.])\b(?:from|import)(?:\s+|\s*\(\s*)["']([^"']+)["']/g),
    ...text.matchAll(/\brequire\s*\(\s*["']([^"']+)["']/g),
  ].map((match) => match[1]!);

const packageOf = (specifier: string) =>
  specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!;

describe("the built package", () => {
  it("names no @cowork package and no server-only package, in its code or its declarations", () => {
    for (const { name, text } of built()) {
      expect(text, name).not.toContain("@cowork/");
      const offending = specifiers(text).filter(isServerOnly);
      expect(offending, `${name} imports server-only packages`).toEqual([]);
    }
  });

  it("imports only its own dependencies and Node's built-ins", () => {
    const allowed = new Set(Object.keys(manifest.dependencies ?? {}));
    for (const { name, text } of built()) {
      const outside = specifiers(text)
        .filter((specifier) => !specifier.startsWith("."))
        .filter((specifier) => !specifier.startsWith("node:"))
        .filter((specifier) => !builtinModules.includes(specifier))
        .filter((specifier) => !allowed.has(packageOf(specifier)));
      expect(outside, `${name} imports packages it does not depend on`).toEqual([]);
    }
  });

  it("depends at run time on no workspace or server-only package, and exports dist/", () => {
    expect(Object.keys(manifest.dependencies ?? {}).filter(isServerOnly)).toEqual([]);
    expect(manifest.exports).toEqual({
      ".": { types: "./dist/index.d.ts", import: "./dist/index.js" },
    });
    expect(manifest.files).toEqual(["dist"]);
  });

  it("spells out the server's router: the same procedures, inputs, outputs and error shape", () => {
    built();
    // Compiled here rather than in the package's typecheck, which runs without a build.
    const check = join(root, ".build", "dist-check.ts");
    mkdirSync(dirname(check), { recursive: true });
    writeFileSync(
      check,
      `import type { AppRouter } from "@cowork/api";
import type { inferRouterError, inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { PortalClient, PortalRouter } from "../dist/index.js";
import { createTRPCClient } from "@trpc/client";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const inputs: Same<inferRouterInputs<PortalRouter>, inferRouterInputs<AppRouter>> = true;
export const outputs: Same<inferRouterOutputs<PortalRouter>, inferRouterOutputs<AppRouter>> = true;
export const errors: Same<inferRouterError<PortalRouter>, inferRouterError<AppRouter>> = true;
export const procedures: Same<keyof PortalClient, keyof ReturnType<typeof createTRPCClient<AppRouter>>> = true;
`,
    );
    const program = ts.createProgram([check], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
      types: ["node"],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    });
    const errors = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
      const where = diagnostic.file?.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      return `${diagnostic.file?.fileName}:${where ? where.line + 1 : "?"}: ${message}`;
    });
    expect(errors).toEqual([]);
  }, 60_000);
});
