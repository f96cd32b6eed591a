// Ids as the API speaks them: positive 32-bit integers, parsed strictly from text.
import { z } from "zod";

export const MAX_ID = 2_147_483_647;

export const idSchema = z.number().int().min(1).max(MAX_ID);

/**
 * An id written in a URL: plain decimal digits only. Rejects what lenient parsers accept
 * ("42abc", "1e1", " 42", "+42", "042", "0x2A", full-width digits) so one id has one spelling.
 */
export const idTextSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, "must be a positive whole number")
  .transform(Number)
  .pipe(idSchema);

export function parseIdText(value: string | null | undefined): number | null {
  const parsed = idTextSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
