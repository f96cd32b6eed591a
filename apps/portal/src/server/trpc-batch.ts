// The size of a tRPC batch (CONTRACT §5: at most 10 calls, else 400 for the whole batch). tRPC
// runs every call of a batch concurrently, each counted against the limits as if sent alone; the
// cap bounds how much one request can set going at once. Checked before anything of the batch
// runs, so a refused batch has no effect at all.
import { DomainError } from "@cowork/api";

export const MAX_BATCH_CALLS = 10;

/**
 * How many procedure calls a request to `/api/trpc/a,b,c` makes: the comma-separated names of
 * its path, counted as tRPC's fetch adapter reads them (slashes trimmed, the path URL-decoded,
 * so `%2C` separates too). tRPC splits only with `?batch=1`; counting regardless is stricter.
 */
export function batchCallCount(url: string): number {
  const path = new URL(url, "http://portal").pathname.replace(/^\/*api\/trpc\/*|\/+$/g, "");
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // tRPC refuses a path it cannot decode; counted with its encoded commas meanwhile.
    decoded = path.replace(/%2c/gi, ",");
  }
  return decoded.split(",").length;
}

/** The 400 for a batch over the cap (`url`: the path and query as sent), or null. */
export function oversizedBatch(url: string): DomainError | null {
  if (batchCallCount(url) <= MAX_BATCH_CALLS) return null;
  return new DomainError(
    "invalid_request",
    `A batch holds at most ${MAX_BATCH_CALLS} calls; send the others separately.`,
  );
}
