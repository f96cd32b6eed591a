import type { NextConfig } from "next";
import { SECURITY_HEADERS } from "./src/server/security-headers";

const config: NextConfig = {
  reactStrictMode: true,
  // Lets parallel builds (tests, benchmarks) keep separate output folders.
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  poweredByHeader: false,
  // Workspace packages ship TypeScript sources; Next compiles them with the app.
  transpilePackages: ["@cowork/api", "@cowork/auth", "@cowork/db", "@cowork/validators"],
  // PGlite loads its WebAssembly from its own package folder at run time. pino and prom-client
  // stay external so that server.ts and the Next bundle share one instance (one metrics registry).
  serverExternalPackages: ["@electric-sql/pglite", "postgres", "pino", "prom-client"],
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [...SECURITY_HEADERS],
      },
    ];
  },
};

export default config;
