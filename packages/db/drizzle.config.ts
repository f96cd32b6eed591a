import { defineConfig } from "drizzle-kit";

// Migrations are generated from the schema and committed; `push` is never used on real data.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema/index.ts",
  out: "./drizzle",
});
