// The package as JavaScript for production (`pnpm build`); tests, typecheck and `pnpm dev` read
// its TypeScript sources through the `source` export condition. tooling/tsup says why.
import { libraryBuild } from "@cowork/tsup-config";

export default libraryBuild({
  index: "src/index.ts",
  config: "src/config.ts",
  schema: "src/schema/index.ts",
  seed: "src/seed.ts",
  testing: "src/testing.ts",
  migrate: "src/migrate.ts",
  "seed-scale": "src/seed-scale.ts",
});
