import type { NextConfig } from "next";

const config: NextConfig = {
  reactStrictMode: true,
  // Lets parallel builds (tests, benchmarks) keep separate output folders.
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  poweredByHeader: false,
  // The schemas of forms are compiled with the pages (client components use them too).
  transpilePackages: ["@cowork/validators"],
  // The service itself is never bundled into the pages: src/server/service.ts says why and how.
};

export default config;
