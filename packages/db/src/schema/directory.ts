// Who exists where: locations, users, staff roles, coworker profiles, teams and their members.
import { sql } from "drizzle-orm";
import {
  boolean,
  foreignKey,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from "drizzle-orm/pg-core";

export const staffRoleEnum = pgEnum("staff_role", ["admin", "operator"]);

export const locations = pgTable("locations", {
  id: serial("id").primaryKey(),
  name: text("name").notNull(),
  timeZone: text("time_zone").notNull(),
});

export const users = pgTable(
  "users",
  {
    id: serial("id").primaryKey(),
    email: text("email").notNull(),
    fullName: text("full_name").notNull(),
    passwordHash: text("password_hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  // Emails are compared case-insensitively, so uniqueness must be too.
  (t) => [uniqueIndex("users_email_lower_key").on(sql`lower(${t.email})`)],
);

export const staffRoles = pgTable(
  "staff_roles",
  {
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    locationId: integer("location_id")
      .notNull()
      .references(() => locations.id, { onDelete: "cascade" }),
    role: staffRoleEnum("role").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.locationId] }),
    index("staff_roles_location_idx").on(t.locationId),
  ],
);

export const coworkers = pgTable(
  "coworkers",
  {
    id: serial("id").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    locationId: integer("location_id")
      .notNull()
      .references(() => locations.id, { onDelete: "cascade" }),
    fullName: text("full_name").notNull(),
  },
  (t) => [
    // One profile per user and location.
    unique("coworkers_user_location_key").on(t.userId, t.locationId),
    // Target of the composite foreign key that keeps team members in their team's location.
    unique("coworkers_id_location_key").on(t.id, t.locationId),
    index("coworkers_location_name_idx").on(t.locationId, t.fullName),
  ],
);

export const teams = pgTable(
  "teams",
  {
    id: serial("id").primaryKey(),
    locationId: integer("location_id")
      .notNull()
      .references(() => locations.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
  },
  (t) => [unique("teams_id_location_key").on(t.id, t.locationId)],
);

export const teamMembers = pgTable(
  "team_members",
  {
    teamId: integer("team_id").notNull(),
    coworkerId: integer("coworker_id").notNull(),
    // Denormalised on purpose: both composite keys below share it, so the database itself
    // refuses a member whose profile is in another location than the team.
    locationId: integer("location_id").notNull(),
    teamAdmin: boolean("team_admin").notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.coworkerId] }),
    foreignKey({
      name: "team_members_team_location_fk",
      columns: [t.teamId, t.locationId],
      foreignColumns: [teams.id, teams.locationId],
    }).onDelete("cascade"),
    foreignKey({
      name: "team_members_coworker_location_fk",
      columns: [t.coworkerId, t.locationId],
      foreignColumns: [coworkers.id, coworkers.locationId],
    }).onDelete("cascade"),
    index("team_members_coworker_idx").on(t.coworkerId),
  ],
);
