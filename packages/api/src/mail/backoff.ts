// When a mail that could not be sent is tried again (CONTRACT §8): the first retry within 10 s,
// then exponential backoff, for a day.

/** The first retry's delay; each further one doubles it. */
export const FIRST_RETRY_S = 5;
/** No wait between two attempts is longer than this. */
export const MAX_RETRY_S = 3600;
/** Mail that could not be sent within this long after it was written is given up. */
export const RETRY_FOR_S = 24 * 3600;

/**
 * Seconds to wait after failed attempt number `attempts` (1 for the first): 5, 10, 20, 40 … up to
 * an hour. Up to a tenth is taken off at random, so that the mails of one outage, across
 * processes, do not all come back at the same instant.
 */
export function retryDelayS(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(FIRST_RETRY_S * 2 ** Math.max(0, attempts - 1), MAX_RETRY_S);
  return base * (1 - random() * 0.1);
}
