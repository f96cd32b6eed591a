// The fixture format of CONTRACT §3. Cross-record rules are checked by the seeder, which names
// the offending record; this schema checks the shape of each one.
import { z } from "zod";
import { idSchema } from "./ids";

export const staffRoleSchema = z.enum(["admin", "operator"]);

export const fixtureSchema = z.strictObject({
  locations: z.array(
    z.strictObject({ id: idSchema, name: z.string().min(1), timeZone: z.string().min(1) }),
  ),
  users: z.array(
    z.strictObject({
      id: idSchema,
      email: z.email(),
      fullName: z.string().min(1),
      password: z.string().min(8),
      staff: z.array(z.strictObject({ locationId: idSchema, role: staffRoleSchema })).optional(),
    }),
  ),
  coworkers: z.array(
    z.strictObject({
      id: idSchema,
      userId: idSchema,
      locationId: idSchema,
      fullName: z.string().min(1),
    }),
  ),
  teams: z.array(
    z.strictObject({
      id: idSchema,
      locationId: idSchema,
      name: z.string().min(1),
      members: z.array(z.strictObject({ coworkerId: idSchema, teamAdmin: z.boolean() })),
    }),
  ),
});

export type Fixture = z.infer<typeof fixtureSchema>;
