// Database settings of the command-line tools, read the same way as the server reads them.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

export function databaseSettings(env = process.env): {
  url: string | undefined;
  pgliteDir: string;
} {
  const url = env.DATABASE_URL?.trim() || undefined;
  if (url && !/^postgres(ql)?:\/\//.test(url)) {
    console.error("DATABASE_URL must be a postgres:// or postgresql:// URL");
    process.exit(1);
  }
  return { url, pgliteDir: resolve(repoRoot, env.PGLITE_DIR?.trim() || ".data/pglite") };
}
