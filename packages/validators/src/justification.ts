// Why an impersonation happens: a category and a ticket reference (CONTRACT §8).
import { z } from "zod";

export const REASON_CATEGORIES = [
  "member_request",
  "billing",
  "technical_issue",
  "security_review",
  "other",
] as const;

export const reasonCategorySchema = z.enum(REASON_CATEGORIES);

/** A ticket reference: 1–64 letters, digits or `._#/-`, no spaces. */
export const ticketSchema = z
  .string()
  .regex(/^[A-Za-z0-9._#/-]{1,64}$/, "must be 1 to 64 letters, digits or ._#/-");

export type ReasonCategory = z.infer<typeof reasonCategorySchema>;
