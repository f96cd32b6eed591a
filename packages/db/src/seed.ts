// Loads a fixture (CONTRACT §3): validated whole, written in one transaction, idempotent.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { hashPassword } from "@cowork/auth";
import { type Fixture, fixtureSchema } from "@cowork/validators";
import { count, sql } from "drizzle-orm";
import { type Database } from "./client";
import { coworkers, locations, staffRoles, teamMembers, teams, users } from "./schema";

export const demoFixturePath = fileURLToPath(new URL("../seed/demo.json", import.meta.url));

/** A fixture that breaks a rule; the message names the record. Nothing was written. */
export class SeedError extends Error {
  override name = "SeedError";
}

export interface SeedSummary {
  locations: number;
  users: number;
  coworkers: number;
  teams: number;
}

export async function readFixtureFile(file: string): Promise<Fixture> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new SeedError(`cannot read fixture file ${file}`);
  }
  return parseFixture(text);
}

export function parseFixture(text: string): Fixture {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SeedError(`fixture is not valid JSON: ${(error as Error).message}`);
  }
  return validateFixture(json);
}

/** Checks a fixture's shape and cross-record rules; the error names the offending record. */
export function validateFixture(json: unknown): Fixture {
  const parsed = fixtureSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SeedError(`${describePath(json, issue?.path ?? [])}: ${issue?.message ?? "invalid"}`);
  }
  checkReferences(parsed.data);
  return parsed.data;
}

/** "users[2] (id 3)" rather than a bare index, so a person can find the record. */
function describePath(json: unknown, path: readonly PropertyKey[]): string {
  let node: unknown = json;
  let label = "fixture";
  for (const key of path) {
    node = (node as Record<PropertyKey, unknown> | undefined)?.[key];
    label += typeof key === "number" ? `[${key}]` : `.${String(key)}`;
    const id = (node as { id?: unknown } | undefined)?.id;
    if (typeof key === "number" && (typeof id === "number" || typeof id === "string")) {
      label += ` (id ${id})`;
    }
  }
  return label;
}

function checkReferences(fixture: Fixture): void {
  const unique = <T>(kind: string, items: T[], key: (item: T) => string | number) => {
    const seen = new Set<string | number>();
    for (const item of items) {
      const value = key(item);
      if (seen.has(value)) throw new SeedError(`${kind} ${value} appears more than once`);
      seen.add(value);
    }
    return seen;
  };
  const locationIds = unique("location id", fixture.locations, (l) => l.id);
  const userIds = unique("user id", fixture.users, (u) => u.id);
  unique("user email", fixture.users, (u) => u.email.toLowerCase());
  const coworkerIds = unique("coworker id", fixture.coworkers, (c) => c.id);
  unique("team id", fixture.teams, (t) => t.id);
  unique(
    "coworker profile (user, location)",
    fixture.coworkers,
    (c) => `${c.userId}@${c.locationId}`,
  );

  for (const user of fixture.users) {
    for (const staff of user.staff ?? []) {
      if (!locationIds.has(staff.locationId)) {
        throw new SeedError(
          `user ${user.id} (${user.email}): staff role in unknown location ${staff.locationId}`,
        );
      }
    }
    unique(`user ${user.id}: staff location`, user.staff ?? [], (s) => s.locationId);
  }
  const coworkerLocation = new Map<number, number>();
  for (const coworker of fixture.coworkers) {
    if (!userIds.has(coworker.userId)) {
      throw new SeedError(
        `coworker ${coworker.id} (${coworker.fullName}): unknown user ${coworker.userId}`,
      );
    }
    if (!locationIds.has(coworker.locationId)) {
      throw new SeedError(
        `coworker ${coworker.id} (${coworker.fullName}): unknown location ${coworker.locationId}`,
      );
    }
    coworkerLocation.set(coworker.id, coworker.locationId);
  }
  for (const team of fixture.teams) {
    const name = `team ${team.id} (${team.name})`;
    if (!locationIds.has(team.locationId)) {
      throw new SeedError(`${name}: unknown location ${team.locationId}`);
    }
    unique(`${name}: member coworker`, team.members, (m) => m.coworkerId);
    for (const member of team.members) {
      const location = coworkerLocation.get(member.coworkerId);
      if (location === undefined || !coworkerIds.has(member.coworkerId)) {
        throw new SeedError(`${name}: member coworker ${member.coworkerId} does not exist`);
      }
      if (location !== team.locationId) {
        throw new SeedError(
          `${name}: member coworker ${member.coworkerId} is in location ${location}, not the team's location ${team.locationId}`,
        );
      }
    }
  }
}

/** Writes the fixture: every record or none. Existing records with the same ids are updated. */
export async function seedFixture(db: Database, input: Fixture): Promise<SeedSummary> {
  // Validated here too: a caller that skipped parseFixture must not write a broken fixture
  // (a duplicate id, for one, would otherwise be upserted over its twin without a word).
  const fixture = validateFixture(input);
  // Slow hashing happens before the transaction opens, so it holds no locks meanwhile.
  const hashes = await Promise.all(fixture.users.map((u) => hashPassword(u.password)));
  await db
    .transaction(async (tx) => {
      for (const location of fixture.locations) {
        await tx
          .insert(locations)
          .values(location)
          .onConflictDoUpdate({
            target: locations.id,
            set: { name: location.name, timeZone: location.timeZone },
          });
      }
      for (const [index, user] of fixture.users.entries()) {
        const row = {
          id: user.id,
          email: user.email,
          fullName: user.fullName,
          passwordHash: hashes[index]!,
        };
        await tx
          .insert(users)
          .values(row)
          .onConflictDoUpdate({
            target: users.id,
            set: { email: row.email, fullName: row.fullName, passwordHash: row.passwordHash },
          });
        for (const staff of user.staff ?? []) {
          await tx
            .insert(staffRoles)
            .values({ userId: user.id, locationId: staff.locationId, role: staff.role })
            .onConflictDoUpdate({
              target: [staffRoles.userId, staffRoles.locationId],
              set: { role: staff.role },
            });
        }
      }
      for (const coworker of fixture.coworkers) {
        await tx
          .insert(coworkers)
          .values(coworker)
          .onConflictDoUpdate({
            target: coworkers.id,
            set: {
              userId: coworker.userId,
              locationId: coworker.locationId,
              fullName: coworker.fullName,
            },
          });
      }
      for (const team of fixture.teams) {
        await tx
          .insert(teams)
          .values({ id: team.id, locationId: team.locationId, name: team.name })
          .onConflictDoUpdate({
            target: teams.id,
            set: { locationId: team.locationId, name: team.name },
          });
        for (const member of team.members) {
          await tx
            .insert(teamMembers)
            .values({
              teamId: team.id,
              coworkerId: member.coworkerId,
              locationId: team.locationId,
              teamAdmin: member.teamAdmin,
            })
            .onConflictDoUpdate({
              target: [teamMembers.teamId, teamMembers.coworkerId],
              set: { teamAdmin: member.teamAdmin, locationId: team.locationId },
            });
        }
      }
      // Explicit ids leave the serial sequences behind; move them past the largest id.
      for (const table of ["locations", "users", "coworkers", "teams"]) {
        await tx.execute(
          sql.raw(
            `select setval(pg_get_serial_sequence('${table}', 'id'), greatest((select max(id) from ${table}), 1))`,
          ),
        );
      }
    })
    .catch((error: unknown) => {
      const cause = (error as { cause?: { constraint_name?: string; constraint?: string } }).cause;
      const constraint = cause?.constraint_name ?? cause?.constraint;
      if (constraint)
        throw new SeedError(
          `fixture conflicts with existing data (${constraint}); nothing was written`,
        );
      throw error;
    });
  return {
    locations: fixture.locations.length,
    users: fixture.users.length,
    coworkers: fixture.coworkers.length,
    teams: fixture.teams.length,
  };
}

export async function isEmpty(db: Database): Promise<boolean> {
  const [row] = await db.select({ n: count() }).from(users);
  return (row?.n ?? 0) === 0;
}

export function describeSummary(summary: SeedSummary): string {
  return `${summary.locations} locations, ${summary.users} users, ${summary.coworkers} coworkers, ${summary.teams} teams`;
}
