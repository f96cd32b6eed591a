// The key set of this deployment: from configuration, or generated once and kept in the
// database so that every process signs and verifies with the same keys and restarts keep them.
import { generatePrivateJwk, loadKeySet, type KeySet, type PrivateJwk } from "@cowork/auth";
import { type Database, signingKeys } from "@cowork/db";
import { asc, sql } from "drizzle-orm";
import { type ServiceConfig } from "../config";

export async function loadKeys(db: Database, config: ServiceConfig): Promise<KeySet> {
  if (config.signingKeys) return loadKeySet(config.signingKeys);
  let stored = await readStoredKeys(db);
  if (stored.length === 0) {
    const generated = await generatePrivateJwk();
    // Several processes may start at once: the advisory lock lets exactly one of them insert.
    await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(727275)`);
      const existing = await tx.select({ kid: signingKeys.kid }).from(signingKeys).limit(1);
      if (existing.length === 0) {
        await tx.insert(signingKeys).values({
          kid: generated.kid,
          alg: "EdDSA",
          privateJwk: generated,
          publicJwk: { kty: generated.kty, crv: generated.crv, x: generated.x, kid: generated.kid },
        });
      }
    });
    stored = await readStoredKeys(db);
  }
  return loadKeySet(stored);
}

/**
 * The key set as configured or stored, without generating one (for tools that only verify);
 * null when there is none.
 */
export async function existingKeys(db: Database, config: ServiceConfig): Promise<KeySet | null> {
  if (config.signingKeys) return loadKeySet(config.signingKeys);
  const stored = await readStoredKeys(db);
  return stored.length ? loadKeySet(stored) : null;
}

/** Newest first: the newest stored key signs, older ones keep verifying. */
async function readStoredKeys(db: Database): Promise<PrivateJwk[]> {
  const rows = await db
    .select({ jwk: signingKeys.privateJwk })
    .from(signingKeys)
    .orderBy(asc(signingKeys.createdAt), asc(signingKeys.kid));
  return rows.map((row) => row.jwk as PrivateJwk).reverse();
}
