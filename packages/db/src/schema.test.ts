// The rules the database itself enforces, whoever writes to it: run on the driver of the project.
import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "./client";
import {
  auditEvents,
  coworkers,
  impersonationGrants,
  locations,
  sessions,
  staffRoles,
  teamMembers,
  teams,
  users,
} from "./schema";
import { createTestDatabase, type TestDatabase } from "./testing";

let handle: TestDatabase;
let emailCounter = 0;

beforeAll(async () => {
  handle = await createTestDatabase();
});

afterAll(async () => {
  await handle.close();
});

interface Refusal {
  code: string | undefined;
  constraint: string | undefined;
}

/** Awaits a statement that must fail, and returns how PostgreSQL refused it (same on both drivers). */
async function refusal(statement: PromiseLike<unknown>): Promise<Refusal> {
  let caught: unknown = null;
  try {
    await statement;
  } catch (error) {
    caught = error;
  }
  expect(caught, "the database accepted a row it should refuse").not.toBeNull();
  const cause = ((caught as { cause?: unknown }).cause ?? caught) as {
    code?: string;
    constraint_name?: string;
    constraint?: string;
  };
  return { code: cause.code, constraint: cause.constraint_name ?? cause.constraint };
}

async function addLocation(name = "Somewhere") {
  const [row] = await handle.db
    .insert(locations)
    .values({ name, timeZone: "Europe/London" })
    .returning();
  return row!;
}

async function addUser(email = `user${++emailCounter}@schema.test`) {
  const [row] = await handle.db
    .insert(users)
    .values({ email, fullName: `User ${email}`, passwordHash: "scrypt$not-a-real-hash" })
    .returning();
  return row!;
}

async function addCoworker(userId: number, locationId: number) {
  const [row] = await handle.db
    .insert(coworkers)
    .values({ userId, locationId, fullName: `Coworker of ${userId}` })
    .returning();
  return row!;
}

async function addTeam(locationId: number, name = "Team") {
  const [row] = await handle.db.insert(teams).values({ locationId, name }).returning();
  return row!;
}

async function addSession(userId: number, locationId: number) {
  const [row] = await handle.db
    .insert(sessions)
    .values({ userId, locationId, expiresAt: new Date(Date.now() + 3_600_000) })
    .returning();
  return row!;
}

/** A staff actor with a live session, and a target coworker, in one location. */
async function grantScene() {
  const location = await addLocation();
  const actor = await addUser();
  const target = await addUser();
  const coworker = await addCoworker(target.id, location.id);
  const team = await addTeam(location.id);
  const session = await addSession(actor.id, location.id);
  const grant = (over: Partial<typeof impersonationGrants.$inferInsert> = {}) =>
    handle.db
      .insert(impersonationGrants)
      .values({
        kind: "staff",
        actorUserId: actor.id,
        actorSessionId: session.id,
        targetUserId: target.id,
        coworkerId: coworker.id,
        locationId: location.id,
        expiresAt: new Date(Date.now() + 60_000),
        ...over,
      })
      .returning();
  return { location, actor, target, coworker, team, session, grant };
}

describe("users", () => {
  it("refuses a second account whose email differs only in letter case", async () => {
    await addUser("Casey.Case@Schema.test");
    const refused = await refusal(addUser("casey.case@schema.TEST"));
    expect(refused).toEqual({ code: "23505", constraint: "users_email_lower_key" });

    const rows = await handle.db
      .select()
      .from(users)
      .where(sql`lower(${users.email}) = 'casey.case@schema.test'`);
    expect(rows.map((u) => u.email)).toEqual(["Casey.Case@Schema.test"]);
  });

  it("lets an account change the case of its own email", async () => {
    const user = await addUser("Mixed.Case@schema.test");
    await handle.db
      .update(users)
      .set({ email: "mixed.case@schema.test" })
      .where(eq(users.id, user.id));
    const [row] = await handle.db.select().from(users).where(eq(users.id, user.id));
    expect(row?.email).toBe("mixed.case@schema.test");
  });
});

describe("coworker profiles", () => {
  it("allows one profile per user and location, and profiles in other locations", async () => {
    const downtown = await addLocation("Downtown");
    const riverside = await addLocation("Riverside");
    const user = await addUser();
    await addCoworker(user.id, downtown.id);
    await addCoworker(user.id, riverside.id);

    const refused = await refusal(addCoworker(user.id, downtown.id));
    expect(refused).toEqual({ code: "23505", constraint: "coworkers_user_location_key" });
    const profiles = await handle.db.select().from(coworkers).where(eq(coworkers.userId, user.id));
    expect(profiles.map((p) => p.locationId).sort()).toEqual([downtown.id, riverside.id].sort());
  });

  it("refuses a profile of an unknown user or in an unknown location", async () => {
    const location = await addLocation();
    const user = await addUser();
    expect((await refusal(addCoworker(999_999, location.id))).code).toBe("23503");
    expect((await refusal(addCoworker(user.id, 999_999))).code).toBe("23503");
  });
});

describe("team members", () => {
  it("accepts a member whose profile is in the team's location", async () => {
    const location = await addLocation();
    const coworker = await addCoworker((await addUser()).id, location.id);
    const team = await addTeam(location.id);
    await handle.db.insert(teamMembers).values({
      teamId: team.id,
      coworkerId: coworker.id,
      locationId: location.id,
      teamAdmin: true,
    });
    const members = await handle.db
      .select()
      .from(teamMembers)
      .where(eq(teamMembers.teamId, team.id));
    expect(members).toEqual([
      { teamId: team.id, coworkerId: coworker.id, locationId: location.id, teamAdmin: true },
    ]);
  });

  it("refuses, in the database itself, a member whose profile is in another location than the team", async () => {
    const teamLocation = await addLocation("Team's location");
    const otherLocation = await addLocation("Other location");
    const outsider = await addCoworker((await addUser()).id, otherLocation.id);
    const team = await addTeam(teamLocation.id);

    // Claiming the team's location: the coworker is not there.
    const asTeam = await refusal(
      handle.db.execute(
        sql`insert into team_members (team_id, coworker_id, location_id) values (${team.id}, ${outsider.id}, ${teamLocation.id})`,
      ),
    );
    expect(asTeam).toEqual({ code: "23503", constraint: "team_members_coworker_location_fk" });

    // Claiming the coworker's location: the team is not there.
    const asCoworker = await refusal(
      handle.db.execute(
        sql`insert into team_members (team_id, coworker_id, location_id) values (${team.id}, ${outsider.id}, ${otherLocation.id})`,
      ),
    );
    expect(asCoworker).toEqual({ code: "23503", constraint: "team_members_team_location_fk" });

    const members = await handle.db
      .select()
      .from(teamMembers)
      .where(eq(teamMembers.teamId, team.id));
    expect(members).toEqual([]);
  });

  it("refuses to move a team member's profile to another location", async () => {
    const home = await addLocation();
    const away = await addLocation();
    const coworker = await addCoworker((await addUser()).id, home.id);
    const team = await addTeam(home.id);
    await handle.db
      .insert(teamMembers)
      .values({ teamId: team.id, coworkerId: coworker.id, locationId: home.id });

    const refused = await refusal(
      handle.db.update(coworkers).set({ locationId: away.id }).where(eq(coworkers.id, coworker.id)),
    );
    expect(refused).toEqual({ code: "23503", constraint: "team_members_coworker_location_fk" });
    const [row] = await handle.db.select().from(coworkers).where(eq(coworkers.id, coworker.id));
    expect(row?.locationId).toBe(home.id);
  });

  it("refuses the same coworker twice in one team, and defaults to not being a team admin", async () => {
    const location = await addLocation();
    const coworker = await addCoworker((await addUser()).id, location.id);
    const team = await addTeam(location.id);
    await handle.db
      .insert(teamMembers)
      .values({ teamId: team.id, coworkerId: coworker.id, locationId: location.id });
    const refused = await refusal(
      handle.db
        .insert(teamMembers)
        .values({ teamId: team.id, coworkerId: coworker.id, locationId: location.id }),
    );
    expect(refused.code).toBe("23505");
    const [member] = await handle.db
      .select()
      .from(teamMembers)
      .where(eq(teamMembers.teamId, team.id));
    expect(member?.teamAdmin).toBe(false);
  });
});

describe("staff roles", () => {
  it("accepts admin and operator, one role per user and location", async () => {
    const location = await addLocation();
    const admin = await addUser();
    const operator = await addUser();
    await handle.db.insert(staffRoles).values([
      { userId: admin.id, locationId: location.id, role: "admin" },
      { userId: operator.id, locationId: location.id, role: "operator" },
    ]);
    const refused = await refusal(
      handle.db
        .insert(staffRoles)
        .values({ userId: admin.id, locationId: location.id, role: "operator" }),
    );
    expect(refused.code).toBe("23505");
    const roles = await handle.db
      .select()
      .from(staffRoles)
      .where(eq(staffRoles.locationId, location.id));
    expect(roles.map((r) => [r.userId, r.role]).sort()).toEqual(
      [
        [admin.id, "admin"],
        [operator.id, "operator"],
      ].sort(),
    );
  });

  it.each(["owner", "Admin", "superuser", ""])("refuses the role %j", async (role) => {
    const location = await addLocation();
    const user = await addUser();
    const refused = await refusal(
      handle.db.execute(
        sql`insert into staff_roles (user_id, location_id, role) values (${user.id}, ${location.id}, ${role})`,
      ),
    );
    expect(refused.code).toBe("22P02"); // invalid input value for enum staff_role
    const roles = await handle.db.select().from(staffRoles).where(eq(staffRoles.userId, user.id));
    expect(roles).toEqual([]);
  });
});

describe("impersonation grants", () => {
  it("accepts a lifetime of exactly 300 s and refuses one second more", async () => {
    const scene = await grantScene();
    const issuedAt = new Date("2030-01-01T12:00:00Z");
    const [ok] = await scene.grant({ issuedAt, expiresAt: new Date(issuedAt.getTime() + 300_000) });
    expect(ok?.jti).toMatch(/^[0-9a-f-]{36}$/);

    const refused = await refusal(
      scene.grant({ issuedAt, expiresAt: new Date(issuedAt.getTime() + 301_000) }),
    );
    expect(refused).toEqual({ code: "23514", constraint: "grants_lifetime_max_300s" });
  });

  it("refuses an over-long lifetime even with issued_at left to the database", async () => {
    const scene = await grantScene();
    const refused = await refusal(scene.grant({ expiresAt: new Date(Date.now() + 3_600_000) }));
    expect(refused).toEqual({ code: "23514", constraint: "grants_lifetime_max_300s" });
  });

  it("requires a team id on a team grant and refuses one on a staff grant", async () => {
    const scene = await grantScene();
    expect(await refusal(scene.grant({ kind: "team" }))).toEqual({
      code: "23514",
      constraint: "grants_team_kind",
    });
    expect(await refusal(scene.grant({ kind: "staff", teamId: scene.team.id }))).toEqual({
      code: "23514",
      constraint: "grants_team_kind",
    });
    const [teamGrant] = await scene.grant({ kind: "team", teamId: scene.team.id });
    expect(teamGrant?.teamId).toBe(scene.team.id);
    const [staffGrant] = await scene.grant({ kind: "staff" });
    expect(staffGrant?.teamId).toBeNull();
    expect(staffGrant?.consumedAt).toBeNull();
    expect(staffGrant?.readOnly).toBe(false);
  });

  it("outlives the actor's session as a record (retention purges that session), and can no longer be used", async () => {
    const scene = await grantScene();
    await handle.db
      .insert(staffRoles)
      .values({ userId: scene.actor.id, locationId: scene.location.id, role: "operator" });
    const [grant] = await scene.grant();
    const stillValid = async () =>
      (
        await queryRows<{ valid: boolean }>(
          handle.db,
          sql`select grant_still_valid(g.kind, g.actor_user_id, g.actor_session_id, g.target_user_id,
                g.coworker_id, g.location_id, g.team_id) as valid
              from impersonation_grants g where g.jti = ${grant!.jti}`,
        )
      )[0]?.valid;
    expect(await stillValid()).toBe(true);
    await handle.db.delete(sessions).where(eq(sessions.id, scene.session.id));
    expect(await stillValid()).toBe(false);
  });
});

describe("grant rules (database functions)", () => {
  const valid = (grant: Record<string, unknown>) =>
    queryRows<{ valid: boolean }>(
      handle.db,
      sql`select grant_still_valid(${grant.kind}::impersonation_kind, ${grant.actorUserId}::int,
            ${grant.actorSessionId}::uuid, ${grant.targetUserId}::int, ${grant.coworkerId}::int,
            ${grant.locationId}::int, ${grant.teamId}::int) as valid`,
    ).then((rows) => rows[0]!.valid);

  it("ranks admin over operator over none", async () => {
    const rows = await queryRows<{ admin: number; operator: number; none: number }>(
      handle.db,
      sql`select staff_rank('admin') as admin, staff_rank('operator') as operator, staff_rank(null) as none`,
    );
    expect(rows).toEqual([{ admin: 2, operator: 1, none: 0 }]);
  });

  it("holds a staff grant while the actor outranks the target, and answers false for anything unknown", async () => {
    const scene = await grantScene();
    await handle.db
      .insert(staffRoles)
      .values({ userId: scene.actor.id, locationId: scene.location.id, role: "operator" });
    const grant = {
      kind: "staff",
      actorUserId: scene.actor.id,
      actorSessionId: scene.session.id,
      targetUserId: scene.target.id,
      coworkerId: scene.coworker.id,
      locationId: scene.location.id,
      teamId: null,
    };
    expect(await valid(grant)).toBe(true);
    for (const name of [
      "kind",
      "actorUserId",
      "actorSessionId",
      "targetUserId",
      "coworkerId",
      "locationId",
    ]) {
      expect(await valid({ ...grant, [name]: null }), `${name} null`).toBe(false);
    }
    expect(await valid({ ...grant, targetUserId: scene.actor.id }), "self").toBe(false);
    // The target becomes an operator somewhere else: equal rank, no longer outranked.
    const elsewhere = await addLocation();
    await handle.db
      .insert(staffRoles)
      .values({ userId: scene.target.id, locationId: elsewhere.id, role: "operator" });
    expect(await valid(grant), "equal rank").toBe(false);
  });
});

describe("sessions", () => {
  it("turns a grant into at most one impersonated session", async () => {
    const scene = await grantScene();
    const [grant] = await scene.grant();
    const impersonated = {
      userId: scene.target.id,
      locationId: scene.location.id,
      coworkerId: scene.coworker.id,
      grantJti: grant!.jti,
      actorUserId: scene.actor.id,
      actorSessionId: scene.session.id,
      expiresAt: new Date(Date.now() + 3_600_000),
    };
    await handle.db.insert(sessions).values(impersonated);
    const refused = await refusal(handle.db.insert(sessions).values(impersonated));
    expect(refused).toEqual({ code: "23505", constraint: "sessions_grant_jti_unique" });
  });

  it("refuses an impersonated session that does not name its actor, actor session and grant together", async () => {
    const scene = await grantScene();
    const base = {
      userId: scene.target.id,
      locationId: scene.location.id,
      expiresAt: new Date(Date.now() + 3_600_000),
    };
    for (const partial of [
      { actorUserId: scene.actor.id },
      { actorUserId: scene.actor.id, actorSessionId: scene.session.id },
      { grantJti: randomUUID() },
      { actorSessionId: scene.session.id, grantJti: randomUUID() },
    ]) {
      expect(await refusal(handle.db.insert(sessions).values({ ...base, ...partial }))).toEqual({
        code: "23514",
        constraint: "sessions_impersonation_complete",
      });
    }
  });
});

describe("audit events", () => {
  it("records only the outcomes success and refused", async () => {
    const [success] = await handle.db
      .insert(auditEvents)
      .values({ type: "signin", outcome: "success" })
      .returning();
    const [refused] = await handle.db
      .insert(auditEvents)
      .values({ type: "impersonation.issued", outcome: "refused", detail: "forbidden" })
      .returning();
    expect(typeof success?.id).toBe("number");
    expect(refused!.id).toBeGreaterThan(success!.id);
    expect(success?.at).toBeInstanceOf(Date);

    for (const outcome of ["ok", "failure", "Success", ""]) {
      expect(
        await refusal(handle.db.insert(auditEvents).values({ type: "signin", outcome })),
      ).toEqual({
        code: "23514",
        constraint: "audit_outcome",
      });
    }
  });

  it("does not let anyone choose an audit id", async () => {
    const refused = await refusal(
      handle.db.execute(
        sql`insert into audit_events (id, type, outcome) values (424242, 'signin', 'success')`,
      ),
    );
    expect(refused.code).toBe("428C9"); // generated always as identity
  });

  it("finds a session's expiry event through an index, not by reading the whole log", async () => {
    // Asked on every refused request of an expired impersonated session (recordExpiryIfDue).
    const plan = await handle.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      return tx.execute(
        sql`explain select 1 from audit_events e
            where e.session_id = ${randomUUID()} and e.type = 'impersonation.expired'`,
      );
    });
    const text = JSON.stringify(plan);
    expect(text).toContain("audit_expired_session_idx");
    expect(text).not.toContain("Seq Scan");
  });
});

describe("deleting records", () => {
  it("deleting a user removes what is theirs but keeps the audit trail, without naming them", async () => {
    const location = await addLocation();
    const user = await addUser();
    const bystander = await addUser();
    const coworker = await addCoworker(user.id, location.id);
    const team = await addTeam(location.id);
    await handle.db
      .insert(teamMembers)
      .values({ teamId: team.id, coworkerId: coworker.id, locationId: location.id });
    await handle.db
      .insert(staffRoles)
      .values({ userId: user.id, locationId: location.id, role: "operator" });
    await addSession(user.id, location.id);
    const [event] = await handle.db
      .insert(auditEvents)
      .values({
        type: "signin",
        outcome: "success",
        actorUserId: user.id,
        targetCoworkerId: coworker.id,
        locationId: location.id,
      })
      .returning();
    const [bystanderEvent] = await handle.db
      .insert(auditEvents)
      .values({
        type: "signin",
        outcome: "success",
        actorUserId: bystander.id,
        locationId: location.id,
      })
      .returning();

    await handle.db.delete(users).where(eq(users.id, user.id));

    expect(await handle.db.select().from(coworkers).where(eq(coworkers.userId, user.id))).toEqual(
      [],
    );
    expect(
      await handle.db.select().from(teamMembers).where(eq(teamMembers.teamId, team.id)),
    ).toEqual([]);
    expect(await handle.db.select().from(staffRoles).where(eq(staffRoles.userId, user.id))).toEqual(
      [],
    );
    expect(await handle.db.select().from(sessions).where(eq(sessions.userId, user.id))).toEqual([]);
    expect(await handle.db.select().from(teams).where(eq(teams.id, team.id))).toHaveLength(1);

    const [kept] = await handle.db.select().from(auditEvents).where(eq(auditEvents.id, event!.id));
    expect(kept).toMatchObject({
      type: "signin",
      actorUserId: null,
      targetCoworkerId: null,
      locationId: location.id,
    });
    const [untouched] = await handle.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.id, bystanderEvent!.id));
    expect(untouched?.actorUserId).toBe(bystander.id);
  });

  it("deleting a team removes its memberships but not the coworkers", async () => {
    const location = await addLocation();
    const coworker = await addCoworker((await addUser()).id, location.id);
    const team = await addTeam(location.id);
    await handle.db
      .insert(teamMembers)
      .values({ teamId: team.id, coworkerId: coworker.id, locationId: location.id });

    await handle.db.delete(teams).where(eq(teams.id, team.id));

    expect(
      await handle.db.select().from(teamMembers).where(eq(teamMembers.teamId, team.id)),
    ).toEqual([]);
    expect(
      await handle.db.select().from(coworkers).where(eq(coworkers.id, coworker.id)),
    ).toHaveLength(1);
  });

  it("deleting a location removes everything in it and keeps its audit events without the location", async () => {
    const location = await addLocation();
    const user = await addUser();
    const coworker = await addCoworker(user.id, location.id);
    const team = await addTeam(location.id);
    await handle.db
      .insert(teamMembers)
      .values({ teamId: team.id, coworkerId: coworker.id, locationId: location.id });
    await handle.db
      .insert(staffRoles)
      .values({ userId: user.id, locationId: location.id, role: "admin" });
    const [event] = await handle.db
      .insert(auditEvents)
      .values({
        type: "profile.switched",
        outcome: "success",
        actorUserId: user.id,
        locationId: location.id,
      })
      .returning();

    await handle.db.delete(locations).where(eq(locations.id, location.id));

    const leftovers = await queryRows<{
      coworkers: number;
      teams: number;
      members: number;
      staff: number;
    }>(
      handle.db,
      sql`select
            (select count(*) from coworkers where location_id = ${location.id})::int as coworkers,
            (select count(*) from teams where location_id = ${location.id})::int as teams,
            (select count(*) from team_members where location_id = ${location.id})::int as members,
            (select count(*) from staff_roles where location_id = ${location.id})::int as staff`,
    );
    expect(leftovers).toEqual([{ coworkers: 0, teams: 0, members: 0, staff: 0 }]);
    expect(await handle.db.select().from(users).where(eq(users.id, user.id))).toHaveLength(1);
    const [kept] = await handle.db.select().from(auditEvents).where(eq(auditEvents.id, event!.id));
    expect(kept).toMatchObject({ actorUserId: user.id, locationId: null });
  });
});
