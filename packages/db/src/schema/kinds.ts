// Enums shared by several schema files (kept apart so that those files need not import each other).
import { pgEnum } from "drizzle-orm/pg-core";

export const grantKindEnum = pgEnum("impersonation_kind", ["staff", "team"]);
