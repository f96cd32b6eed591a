// Test harness: a fresh migrated database seeded with the demo fixture, real keys, and callers
// that go through the same context as the HTTP doors.
import { randomBytes } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { type ServiceConfig, loadConfig } from "./config";
import { createContext } from "./context";
import { createCaller } from "./root";
import { createServiceDeps } from "./services";
import { type RequestTimes } from "./services/deadline";
import { type ServiceDeps } from "./services/deps";

export const DEMO_PASSWORDS: Record<string, string> = {
  "ada.admin@demo.test": "demo-admin-pass",
  "otto.operator@demo.test": "demo-operator-pass",
};

/**
 * Request times for tests that drive the service step by step: an hour ahead, so that a busy
 * machine never runs into them. The deadline's own tests give times of their own.
 */
export const testTimes = (): RequestTimes => ({
  deadline: new Date(Date.now() + 3_600_000),
  answerBy: Date.now() + 3_600_000,
});

export interface TestApi {
  database: TestDatabase;
  deps: ServiceDeps;
  /** A caller as the REST door builds it: bearer token (or none), a client address. */
  caller(token?: string | null, ip?: string): Promise<ReturnType<typeof createCaller>>;
  /** Signs in with the demo password and returns the access token. */
  signIn(email: string, locationId?: number): Promise<string>;
  close(): Promise<void>;
}

export async function createTestApi(
  overrides: Partial<ServiceConfig> = {},
  env: Record<string, string> = {},
): Promise<TestApi> {
  const database = await createTestDatabase();
  await seedFixture(database.db, await readFixtureFile(demoFixturePath));
  const config = {
    ...loadConfig({ AUTH_ISSUER: "http://portal.test", ...env }),
    // One-time-code secrets are sealed with a key of this test's own.
    otpEncryptionKey: randomBytes(32),
    ...overrides,
  };
  const deps = await createServiceDeps(database.db, config);
  let requests = 0;
  const caller = async (token: string | null = null, ip = "203.0.113.7") =>
    createCaller(
      await createContext({
        deps,
        token,
        meta: { ip, requestId: `test-${++requests}`, ...testTimes() },
      }),
    );
  return {
    database,
    deps,
    caller,
    async signIn(email, locationId) {
      const password = DEMO_PASSWORDS[email] ?? "demo-member-pass";
      const result = await (
        await caller()
      ).auth.signIn({ email, password, ...(locationId ? { locationId } : {}) });
      return result.accessToken!;
    },
    // What the writer still holds is written before the database goes.
    close: async () => {
      await deps.actions.stop();
      await database.close();
    },
  };
}
