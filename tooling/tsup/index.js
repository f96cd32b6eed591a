// How a workspace package becomes JavaScript for production. Each package keeps its TypeScript
// sources as the code that tests, typechecks and `pnpm dev` run (the `source` and `development`
// export conditions); `pnpm build` writes dist/ for everything else, which is what `pnpm start`
// runs with plain node. A bundler and not tsc: the sources import each other without file
// extensions, which Node's ES module loader does not resolve; tsup (esbuild) bundles each entry
// with its relative imports and leaves every package dependency an import, so each workspace
// package is loaded once in a process, by whoever imports it first.
import { defineConfig } from "tsup";

/** `entry`: output name → source file, one per export of the package. */
export function libraryBuild(entry) {
  return defineConfig({
    entry,
    format: ["esm"],
    target: "node20",
    platform: "node",
    // Shared code of several entries goes into chunks, so each module exists once.
    splitting: true,
    sourcemap: true,
    clean: true,
    // Types come from the sources (`types` condition); only the client publishes declarations.
    dts: false,
  });
}
