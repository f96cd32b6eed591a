// The portal's server as JavaScript (`pnpm build`, after `next build`): server.ts and the modules
// of src/server it imports, bundled into dist/server.js, which `pnpm start` runs with plain node.
// Every package stays an import, so the server and the pages Next renders load the workspace
// packages (their dist/ builds) once, as one module graph.
import { defineConfig } from "tsup";

export default defineConfig({
  entry: { server: "server.ts" },
  format: ["esm"],
  target: "node20",
  platform: "node",
  sourcemap: true,
  clean: true,
  dts: false,
});
