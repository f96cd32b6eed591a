import { it } from "vitest";
import { createTestApi } from "./testing";
import { domainErrorOf } from "./errors";
import { TRPCError } from "@trpc/server";

it("scratch", async () => {
  const api = await createTestApi();
  const otto = await api.signIn("otto.operator@demo.test");
  for (const p of [
    (async () => (await api.caller(otto)).impersonation.impersonate({ coworkerId: 50 }))(),
    (async () => (await api.caller()).impersonation.impersonate({ coworkerId: 50 }))(),
    (async () => (await api.caller(otto)).impersonation.impersonate({ coworkerId: 0 }))(),
    (async () => (await api.caller(otto)).impersonation.impersonateTeamMember({ coworkerId: 43 }))(),
  ]) {
    try { await p; } catch (e) {
      const d = domainErrorOf(e);
      console.log((e as TRPCError).code, (e as Error).message, d.code, d.status, e instanceof TRPCError);
    }
  }
  const r = await api.database.db.execute("select 1 as x" as never).catch((e: unknown) => String(e));
  console.log(r);
  await api.close();
});
