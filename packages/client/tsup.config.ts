// The published build: ESM and one declaration file, nothing in either naming a @cowork package.
// Values from workspace packages (the REST path builders of @cowork/api/endpoints) are bundled
// in; for the declarations, tsconfig.build.json maps @cowork/api/endpoints to its source, so its
// types are inlined, and `#portal-router` to the router type that scripts/portal-router.ts spelled
// out just before (the build script runs it first).
import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  target: "node20",
  platform: "neutral",
  tsconfig: "tsconfig.build.json",
  clean: true,
  noExternal: [/^@cowork\//],
  dts: true,
});
