// The service's flows over HTTP, as a client of CONTRACT §5 would drive them.
import { expect } from "vitest";
import { type Fixture } from "@cowork/validators";
import { call, fields, type Reply, type Target } from "./http";
import { demoFixture } from "./portal";

export const EMAIL = {
  ada: "ada.admin@demo.test",
  otto: "otto.operator@demo.test",
  tess: "tess.teamadmin@demo.test",
  milo: "milo.member@demo.test",
  nora: "nora.nomad@demo.test",
  ivan: "ivan.indie@demo.test",
  rita: "rita.riverside@demo.test",
  sam: "sam.second@demo.test",
  olga: "olga.operator@extra.test",
  adam: "adam.admin@extra.test",
} as const;

export const PASSWORD: Record<string, string> = {
  [EMAIL.ada]: "demo-admin-pass",
  [EMAIL.otto]: "demo-operator-pass",
};
export const passwordOf = (email: string) => PASSWORD[email] ?? "demo-member-pass";

/**
 * The demo data plus two staff members who also have coworker profiles in L1, which the rank
 * rules need: Olga (operator of L1, coworker 47) and Adam (admin of L2 only, coworker 48 in L1,
 * a plain member of Tess's team 7).
 */
export async function rankFixture(): Promise<Fixture> {
  const demo = await demoFixture();
  return {
    ...demo,
    users: [
      ...demo.users,
      {
        id: 20,
        email: EMAIL.olga,
        fullName: "Olga Operator",
        password: "demo-member-pass",
        staff: [{ locationId: 1, role: "operator" }],
      },
      {
        id: 21,
        email: EMAIL.adam,
        fullName: "Adam Admin",
        password: "demo-member-pass",
        staff: [{ locationId: 2, role: "admin" }],
      },
    ],
    coworkers: [
      ...demo.coworkers,
      { id: 47, userId: 20, locationId: 1, fullName: "Olga Operator" },
      { id: 48, userId: 21, locationId: 1, fullName: "Adam Admin" },
    ],
    teams: demo.teams.map((team) =>
      team.id === 7
        ? { ...team, members: [...team.members, { coworkerId: 48, teamAdmin: false }] }
        : team,
    ),
  };
}

export function signInReply(
  portal: Target,
  email: string,
  options: { password?: string; locationId?: number; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return call(portal, "POST", "/api/token", {
    json: {
      grant_type: "password",
      username: email,
      password: options.password ?? passwordOf(email),
      ...(options.locationId ? { location_id: options.locationId } : {}),
    },
    ...(options.headers ? { headers: options.headers } : {}),
  });
}

export async function login(portal: Target, email: string, locationId?: number): Promise<string> {
  const reply = await signInReply(portal, email, locationId ? { locationId } : {});
  expect(reply.status, reply.text).toBe(200);
  return fields(reply).access_token as string;
}

export function issueReply(
  portal: Target,
  token: string | null,
  coworkerId: number | string,
  options: { reason?: string; team?: boolean; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const query = new URLSearchParams();
  if (!options.team) query.set("coworkerId", String(coworkerId));
  if (options.reason !== undefined) query.set("reason", options.reason);
  const text = query.toString();
  const path = options.team
    ? `/api/public/coworkers/${encodeURIComponent(String(coworkerId))}/impersonate${text ? `?${text}` : ""}`
    : `/api/sys/users/impersonate?${text}`;
  return call(portal, "GET", path, {
    token,
    ...(options.headers ? { headers: options.headers } : {}),
  });
}

/** An impersonation token, asserting the 200. */
export async function issue(
  portal: Target,
  token: string,
  coworkerId: number,
  options: { reason?: string; team?: boolean } = {},
): Promise<string> {
  const reply = await issueReply(portal, token, coworkerId, options);
  expect(reply.status, reply.text).toBe(200);
  return fields(reply).token as string;
}

export const exchangeReply = (portal: Target, token: unknown) =>
  call(portal, "POST", "/api/sys/users/exchange", { json: { token } });

/** The access token of an impersonated session, asserting the 200. */
export async function exchange(portal: Target, impersonationToken: string): Promise<string> {
  const reply = await exchangeReply(portal, impersonationToken);
  expect(reply.status, reply.text).toBe(200);
  return fields(reply).access_token as string;
}

/** Issue and exchange in one go: the impersonated session's access token. */
export async function impersonate(
  portal: Target,
  actorToken: string,
  coworkerId: number,
  options: { reason?: string; team?: boolean } = {},
): Promise<string> {
  return exchange(portal, await issue(portal, actorToken, coworkerId, options));
}

export const me = (portal: Target, token: string | null) =>
  call(portal, "GET", "/api/sys/users/me", { token });

export interface AuditItem {
  id: number;
  at: string;
  type: string;
  actor: { userId: number; fullName: string } | null;
  target: { coworkerId: number; fullName: string } | null;
  locationId: number | null;
  reason: string | null;
  ip: string | null;
  outcome: "success" | "refused";
  detail: string | null;
}

/** Every audit event of the admin's active location, newest first (follows the cursor). */
export async function auditAll(
  portal: Target,
  adminToken: string,
  filter: Record<string, string | number> = {},
): Promise<AuditItem[]> {
  const items: AuditItem[] = [];
  let cursor: number | null = null;
  for (;;) {
    const query = new URLSearchParams({
      limit: "200",
      ...Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, String(v)])),
    });
    if (cursor !== null) query.set("cursor", String(cursor));
    const reply = await call(portal, "GET", `/api/sys/audit?${query.toString()}`, {
      token: adminToken,
    });
    expect(reply.status, reply.text).toBe(200);
    const page = reply.json as { items: AuditItem[]; nextCursor: number | null };
    items.push(...page.items);
    if (page.nextCursor === null) return items;
    cursor = page.nextCursor;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
