import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestApi, type TestApi } from "./testing";

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(() => api.close());

it("runs the staff flow end to end", async () => {
  const otto = await api.signIn("otto.operator@demo.test");
  const me = await (await api.caller(otto)).auth.me();
  expect(me.staffRole).toBe("operator");
  const { token } = await (await api.caller(otto)).impersonation.impersonate({ coworkerId: 42, reason: "ticket-1" });
  const exchanged = await (await api.caller()).impersonation.exchange({ token });
  const session = await (await api.caller(exchanged.accessToken)).auth.me();
  expect(session).toMatchObject({ userId: 4, staffRole: null, profile: { coworkerId: 42 }, impersonation: { actor: { userId: 2 }, reason: "ticket-1" } });
  await expect((await api.caller()).impersonation.exchange({ token })).rejects.toThrow(/not valid/);
  const tess = await api.signIn("tess.teamadmin@demo.test");
  const team = await (await api.caller(tess)).impersonation.impersonateTeamMember({ coworkerId: 43 });
  expect(team.token).toBeTruthy();
  await expect((await api.caller(tess)).impersonation.impersonateTeamMember({ coworkerId: 46 })).rejects.toThrow(/staff/);
  const ada = await api.signIn("ada.admin@demo.test");
  const audit = await (await api.caller(ada)).audit.listEvents({ limit: 50 });
  expect(audit.items.length).toBeGreaterThan(3);
  await (await api.caller(exchanged.accessToken)).impersonation.stopImpersonating();
  await expect((await api.caller(exchanged.accessToken)).auth.me()).rejects.toThrow();
  const nora = await api.signIn("nora.nomad@demo.test");
  expect(await (await api.caller(nora)).profiles.listProfiles()).toHaveLength(2);
  await (await api.caller(nora)).profiles.setCurrentProfile({ coworkerId: 50 });
  expect((await (await api.caller(nora)).auth.me()).location.id).toBe(2);
});
