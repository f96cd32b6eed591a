// Loading fixtures (CONTRACT §3): the demo data, idempotence, hashed passwords, and refusal of
// broken fixtures with nothing written, checked against the database of the project's driver.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyPassword } from "@cowork/auth";
import { type Fixture } from "@cowork/validators";
import { asc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "./client";
import { coworkers, locations, staffRoles, teamMembers, teams, users } from "./schema";
import {
  demoFixturePath,
  isEmpty,
  parseFixture,
  readFixtureFile,
  SeedError,
  seedFixture,
} from "./seed";
import { createTestDatabase, type TestDatabase } from "./testing";
import { type Counts, DEMO_COUNTS, NOTHING, tableCounts } from "./test-support/table-counts";

let demo: Fixture;

/** A fresh copy of the demo fixture to break. */
function demoCopy(): Fixture {
  return structuredClone(demo);
}

/** Expects a SeedError whose message contains every fragment. */
async function expectRefusal(
  action: () => Promise<unknown>,
  ...fragments: string[]
): Promise<SeedError> {
  let caught: unknown = null;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SeedError);
  const message = (caught as SeedError).message;
  for (const fragment of fragments) expect(message).toContain(fragment);
  return caught as SeedError;
}

beforeAll(async () => {
  demo = await readFixtureFile(demoFixturePath);
});

describe("the demo fixture", () => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase();
  });
  afterAll(async () => {
    await handle.close();
  });

  it("seeds an empty database with every record of the demo data", async () => {
    expect(await isEmpty(handle.db)).toBe(true);
    const summary = await seedFixture(handle.db, demo);

    expect(summary).toEqual({ locations: 2, users: 8, coworkers: 8, teams: 3 });
    expect(await tableCounts(handle.db)).toEqual(DEMO_COUNTS);
    expect(await isEmpty(handle.db)).toBe(false);

    const locationRows = await handle.db.select().from(locations).orderBy(asc(locations.id));
    expect(locationRows).toEqual([
      { id: 1, name: "Downtown Hub", timeZone: "Europe/London" },
      { id: 2, name: "Riverside Loft", timeZone: "Europe/Madrid" },
    ]);
    const userRows = await handle.db
      .select({ id: users.id, email: users.email })
      .from(users)
      .orderBy(asc(users.id));
    expect(userRows).toEqual(demo.users.map((u) => ({ id: u.id, email: u.email })));
    const coworkerRows = await handle.db.select().from(coworkers).orderBy(asc(coworkers.id));
    expect(coworkerRows).toEqual([...demo.coworkers].sort((a, b) => a.id - b.id));
  });

  it("gives Ada admin in both locations and Otto operator downtown, and nobody else a staff role", async () => {
    const roles = await handle.db
      .select()
      .from(staffRoles)
      .orderBy(asc(staffRoles.userId), asc(staffRoles.locationId));
    expect(roles).toEqual([
      { userId: 1, locationId: 1, role: "admin" },
      { userId: 1, locationId: 2, role: "admin" },
      { userId: 2, locationId: 1, role: "operator" },
    ]);
  });

  it("puts the teams in their locations with their admins", async () => {
    const teamRows = await handle.db.select().from(teams).orderBy(asc(teams.id));
    expect(teamRows).toEqual([
      { id: 7, locationId: 1, name: "Acme Design" },
      { id: 8, locationId: 1, name: "Solo Studio" },
      { id: 9, locationId: 2, name: "River Crew" },
    ]);
    const members = await handle.db
      .select()
      .from(teamMembers)
      .orderBy(asc(teamMembers.teamId), asc(teamMembers.coworkerId));
    expect(members.map((m) => [m.teamId, m.coworkerId, m.teamAdmin])).toEqual([
      [7, 40, true],
      [7, 42, false],
      [7, 43, false],
      [7, 46, false],
      [8, 44, true],
      [8, 45, false],
      [9, 50, false],
      [9, 51, true],
    ]);
    // Every member sits in its team's location.
    for (const member of members) {
      expect(member.locationId).toBe(teamRows.find((t) => t.id === member.teamId)?.locationId);
    }
  });

  it("stores passwords only as salted scrypt hashes that verify the demo passwords", async () => {
    const rows = await handle.db.select().from(users).orderBy(asc(users.id));
    const clearPasswords = new Set(demo.users.map((u) => u.password));
    for (const row of rows) {
      expect(row.passwordHash).toMatch(/^scrypt\$/);
      const stored = JSON.stringify(row);
      for (const password of clearPasswords) expect(stored).not.toContain(password);
    }
    const raw = await queryRows<Record<string, unknown>>(handle.db, sql`select * from users`);
    for (const password of clearPasswords) expect(JSON.stringify(raw)).not.toContain(password);

    // Users 3 to 8 share one demo password, yet every hash differs: each has its own salt.
    expect(new Set(rows.map((r) => r.passwordHash)).size).toBe(rows.length);

    const ada = rows.find((r) => r.id === 1)!;
    expect(await verifyPassword("demo-admin-pass", ada.passwordHash)).toBe(true);
    expect(await verifyPassword("demo-member-pass", ada.passwordHash)).toBe(false);
  });

  it("leaves exactly one copy when seeded again, with the same ids", async () => {
    const before = await handle.db
      .select({ id: users.id, email: users.email })
      .from(users)
      .orderBy(asc(users.id));
    const summary = await seedFixture(handle.db, demo);
    expect(summary).toEqual({ locations: 2, users: 8, coworkers: 8, teams: 3 });
    expect(await tableCounts(handle.db)).toEqual(DEMO_COUNTS);
    const after = await handle.db
      .select({ id: users.id, email: users.email })
      .from(users)
      .orderBy(asc(users.id));
    expect(after).toEqual(before);
    const [otto] = await handle.db.select().from(users).where(eq(users.id, 2));
    expect(await verifyPassword("demo-operator-pass", otto!.passwordHash)).toBe(true);
  });

  it("lets records created later without an id get ids above the seeded ones", async () => {
    const [location] = await handle.db
      .insert(locations)
      .values({ name: "Harbour Annex", timeZone: "Europe/Lisbon" })
      .returning();
    const [user] = await handle.db
      .insert(users)
      .values({ email: "new.member@demo.test", fullName: "New Member", passwordHash: "scrypt$x" })
      .returning();
    const [coworker] = await handle.db
      .insert(coworkers)
      .values({ userId: user!.id, locationId: location!.id, fullName: "New Member" })
      .returning();
    const [team] = await handle.db
      .insert(teams)
      .values({ locationId: location!.id, name: "Harbour Crew" })
      .returning();

    expect(location!.id).toBeGreaterThan(2);
    expect(user!.id).toBeGreaterThan(8);
    expect(coworker!.id).toBeGreaterThan(51);
    expect(team!.id).toBeGreaterThan(9);
  });
});

describe("a fixture that conflicts with data already in the database", () => {
  let handle: TestDatabase;
  const base: Fixture = {
    locations: [{ id: 1, name: "Downtown Hub", timeZone: "Europe/London" }],
    users: [
      { id: 1, email: "first@conflict.test", fullName: "First", password: "first-pass-1" },
      { id: 2, email: "second@conflict.test", fullName: "Second", password: "second-pass-2" },
    ],
    coworkers: [
      { id: 10, userId: 1, locationId: 1, fullName: "First" },
      { id: 20, userId: 2, locationId: 1, fullName: "Second" },
    ],
    teams: [{ id: 5, locationId: 1, name: "Crew", members: [{ coworkerId: 10, teamAdmin: true }] }],
  };
  let seeded: Counts;

  beforeAll(async () => {
    handle = await createTestDatabase();
    await seedFixture(handle.db, base);
    seeded = await tableCounts(handle.db);
  });
  afterAll(async () => {
    await handle.close();
  });

  it("is refused whole when an email already belongs to another user id", async () => {
    const conflicting: Fixture = {
      locations: [{ id: 3, name: "Brand New Place", timeZone: "Europe/Paris" }],
      users: [
        // Valid on its own, and written first: it must be rolled back with the rest.
        { id: 30, email: "fresh@conflict.test", fullName: "Fresh", password: "fresh-pass-30" },
        { id: 31, email: "FIRST@conflict.test", fullName: "Imposter", password: "imposter-pass" },
      ],
      coworkers: [{ id: 300, userId: 30, locationId: 3, fullName: "Fresh" }],
      teams: [],
    };
    expect(() => parseFixture(JSON.stringify(conflicting))).not.toThrow();

    const error = await expectRefusal(
      () => seedFixture(handle.db, conflicting),
      "users_email_lower_key",
    );
    expect(error.message).toMatch(/nothing was written/);

    expect(await tableCounts(handle.db)).toEqual(seeded);
    expect(await handle.db.select().from(locations).where(eq(locations.id, 3))).toEqual([]);
    expect(await handle.db.select().from(users).where(eq(users.id, 30))).toEqual([]);
  });

  it("is refused whole when it would move a team member to another location", async () => {
    const moving: Fixture = {
      locations: [
        { id: 1, name: "Renamed Hub", timeZone: "Europe/London" },
        { id: 2, name: "Second Place", timeZone: "Europe/Madrid" },
      ],
      users: [
        {
          id: 1,
          email: "first@conflict.test",
          fullName: "First Renamed",
          password: "first-pass-1",
        },
      ],
      coworkers: [{ id: 10, userId: 1, locationId: 2, fullName: "First Renamed" }],
      teams: [],
    };
    await expectRefusal(() => seedFixture(handle.db, moving), "team_members_coworker_location_fk");

    expect(await tableCounts(handle.db)).toEqual(seeded);
    const [hub] = await handle.db.select().from(locations).where(eq(locations.id, 1));
    expect(hub?.name).toBe("Downtown Hub");
    const [first] = await handle.db.select().from(users).where(eq(users.id, 1));
    expect(first?.fullName).toBe("First");
    const [profile] = await handle.db.select().from(coworkers).where(eq(coworkers.id, 10));
    expect(profile?.locationId).toBe(1);
  });

  it("still seeds afterwards, updating records with the same ids", async () => {
    const renamed = structuredClone(base);
    renamed.locations[0]!.name = "Downtown Hub (renamed)";
    renamed.users[1]!.fullName = "Second Renamed";
    await seedFixture(handle.db, renamed);
    expect(await tableCounts(handle.db)).toEqual(seeded);
    const [hub] = await handle.db.select().from(locations).where(eq(locations.id, 1));
    expect(hub?.name).toBe("Downtown Hub (renamed)");
    const [second] = await handle.db.select().from(users).where(eq(users.id, 2));
    expect(second?.fullName).toBe("Second Renamed");
  });
});

describe("a broken fixture", () => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase();
  });
  afterAll(async () => {
    await handle.close();
  });

  interface Case {
    name: string;
    fragments: string[];
    breakIt: (fixture: Fixture) => void;
  }

  const cases: Case[] = [
    {
      name: "a staff role in an unknown location",
      fragments: ["user 2", "otto.operator@demo.test", "unknown location 9"],
      breakIt: (f) => {
        f.users[1]!.staff = [{ locationId: 9, role: "operator" }];
      },
    },
    {
      name: "a coworker in an unknown location",
      fragments: ["coworker 51", "Rita Riverside", "unknown location 9"],
      breakIt: (f) => {
        f.coworkers.find((c) => c.id === 51)!.locationId = 9;
      },
    },
    {
      name: "a team in an unknown location",
      fragments: ["team 8", "Solo Studio", "unknown location 9"],
      breakIt: (f) => {
        f.teams.find((t) => t.id === 8)!.locationId = 9;
      },
    },
    {
      name: "a coworker of an unknown user",
      fragments: ["coworker 42", "unknown user 99"],
      breakIt: (f) => {
        f.coworkers.find((c) => c.id === 42)!.userId = 99;
      },
    },
    {
      name: "a duplicate location id",
      fragments: ["location id 2", "more than once"],
      breakIt: (f) => {
        f.locations.push({ id: 2, name: "Riverside Twin", timeZone: "Europe/Madrid" });
      },
    },
    {
      name: "a duplicate user id",
      fragments: ["user id 3", "more than once"],
      breakIt: (f) => {
        f.users.push({
          id: 3,
          email: "twin@demo.test",
          fullName: "Twin",
          password: "twin-password",
        });
      },
    },
    {
      name: "a duplicate coworker id",
      fragments: ["coworker id 40", "more than once"],
      breakIt: (f) => {
        f.coworkers.push({ id: 40, userId: 7, locationId: 1, fullName: "Rita Downtown" });
      },
    },
    {
      name: "a duplicate team id",
      fragments: ["team id 7", "more than once"],
      breakIt: (f) => {
        f.teams.push({ id: 7, locationId: 2, name: "Other Seven", members: [] });
      },
    },
    {
      name: "a duplicate email, differing only in case",
      fragments: ["email", "ada.admin@demo.test", "more than once"],
      breakIt: (f) => {
        f.users.find((u) => u.id === 4)!.email = "Ada.Admin@Demo.test";
      },
    },
    {
      name: "two profiles of one user in one location",
      fragments: ["5@1", "more than once"],
      breakIt: (f) => {
        f.coworkers.push({ id: 60, userId: 5, locationId: 1, fullName: "Nora Again" });
      },
    },
    {
      name: "a team member from another location",
      fragments: ["team 7", "coworker 51", "location 2"],
      breakIt: (f) => {
        f.teams.find((t) => t.id === 7)!.members.push({ coworkerId: 51, teamAdmin: false });
      },
    },
    {
      name: "an unknown team member",
      fragments: ["team 8", "coworker 999", "does not exist"],
      breakIt: (f) => {
        f.teams.find((t) => t.id === 8)!.members.push({ coworkerId: 999, teamAdmin: false });
      },
    },
    {
      name: "the same member twice in a team",
      fragments: ["team 9", "coworker 50", "more than once"],
      breakIt: (f) => {
        f.teams.find((t) => t.id === 9)!.members.push({ coworkerId: 50, teamAdmin: true });
      },
    },
    {
      name: "a missing field",
      fragments: ["users[1] (id 2)", "email"],
      breakIt: (f) => {
        delete (f.users[1] as Partial<Fixture["users"][number]>).email;
      },
    },
    {
      name: "an unknown staff role",
      fragments: ["users[0] (id 1)", "staff[1]", "role"],
      breakIt: (f) => {
        (f.users[0]!.staff![1] as { role: string }).role = "owner";
      },
    },
    {
      name: "an id that is not a positive whole number",
      fragments: ["coworkers[2] (id 43)", "userId"],
      breakIt: (f) => {
        f.coworkers[2]!.userId = 1.5;
      },
    },
  ];

  it.each(cases)(
    "is refused with a message naming the record: $name",
    async ({ breakIt, fragments }) => {
      const broken = demoCopy();
      breakIt(broken);
      await expectRefusal(
        () => Promise.resolve(parseFixture(JSON.stringify(broken))),
        ...fragments,
      );
    },
  );

  it.each(cases)(
    "writes nothing, even when handed to the seeder directly: $name",
    async ({ breakIt, fragments }) => {
      const broken = demoCopy();
      breakIt(broken);
      await expectRefusal(() => seedFixture(handle.db, broken), ...fragments);
      expect(await tableCounts(handle.db)).toEqual(NOTHING);
    },
  );

  it("is refused when it is not JSON", async () => {
    await expectRefusal(() => Promise.resolve(parseFixture('{ "locations": [')), "not valid JSON");
    await expectRefusal(() => Promise.resolve(parseFixture("")), "not valid JSON");
  });

  it("is refused when it is JSON but not a fixture", async () => {
    await expectRefusal(() => Promise.resolve(parseFixture("[]")), "fixture");
    await expectRefusal(
      () => Promise.resolve(parseFixture('{"locations": [], "users": []}')),
      "coworkers",
    );
    await expectRefusal(
      () => Promise.resolve(parseFixture(JSON.stringify({ ...demo, extra: true }))),
      "extra",
    );
  });

  it("reports a file that is missing or not JSON by its name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cowork-seed-"));
    try {
      const garbled = join(dir, "garbled.json");
      await writeFile(garbled, '{ "locations": [ { "id": 1, ');
      await expectRefusal(() => readFixtureFile(garbled), "not valid JSON");
      const missing = join(dir, "missing.json");
      await expectRefusal(() => readFixtureFile(missing), "cannot read fixture file", missing);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(await tableCounts(handle.db)).toEqual(NOTHING);
    expect(await isEmpty(handle.db)).toBe(true);
  });
});
