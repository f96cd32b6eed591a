// A request's two times. The service promises an answer within 5 s, and that a 503 means none
// of the request's effects happen, then or later. A timer in JavaScript can only keep the first
// promise: a statement it stopped waiting for may still reach PostgreSQL (queued by the driver,
// held by the network) and commit after the caller was told it failed. So every statement that
// writes also carries the request's SQL deadline and checks it inside PostgreSQL
// (`before_deadline`, migration 0003): past it, the statement fails (57014, a 503) and its
// transaction rolls back. The numbers, from the moment the request arrived:
//   - 2.5 s, the SQL deadline: the last moment a write may start (late enough that a sign-in
//     waiting its turn behind concurrent password checks, or a busy machine, still writes);
//   - + 1.5 s, PostgreSQL's statement_timeout (REQUEST_STATEMENT_TIMEOUT_MS): a write that started
//     in time has committed or been cancelled by 4 s;
//   - 4.5 s, the answer time: the service stops waiting and answers 503. The half second between
//     4 s and 4.5 s is for a commit's result to cross back, and for clock skew between this
//     machine and the database's (the deadline is this machine's time, compared with
//     clock_timestamp() there); the half second after 4.5 s is for the answer to reach the client.
// Whatever committed was in time to be answered; whatever was not answered in time never commits.
import { REQUEST_STATEMENT_TIMEOUT_MS } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { DomainError } from "../errors";

/** From a request's arrival to its SQL deadline. */
export const SQL_DEADLINE_MS = 2500;
/** From a request's arrival to the 503 it gets when nothing else answered (contract: 5 s). */
export const ANSWER_WITHIN_MS = 4500;
/** What a commit's result and clock skew get between the last possible commit and the 503. */
const MARGIN_MS = 500;

if (SQL_DEADLINE_MS + REQUEST_STATEMENT_TIMEOUT_MS + MARGIN_MS > ANSWER_WITHIN_MS)
  throw new Error("A write that starts before its deadline must finish before the 503.");

export interface RequestTimes {
  /** No statement of the request may change anything once this has passed (database clock). */
  deadline: Date;
  /** Epoch milliseconds at which the request is answered 503 when nothing else answered. */
  answerBy: number;
}

/** The times of a request that arrived at `arrivedAt` (epoch milliseconds). */
export function requestTimes(arrivedAt: number = Date.now()): RequestTimes {
  return {
    deadline: new Date(arrivedAt + SQL_DEADLINE_MS),
    answerBy: arrivedAt + ANSWER_WITHIN_MS,
  };
}

/**
 * `before_deadline(…)`: true, or an error (57014) once the deadline has passed. Goes in the WHERE
 * of what feeds every write of a statement, so that no row is written without it evaluated.
 */
export const beforeDeadline = (times: Pick<RequestTimes, "deadline">): SQL =>
  sql`before_deadline(${times.deadline.toISOString()}::timestamptz)`;

export const unavailable = () =>
  new DomainError(
    "unavailable",
    "The service is temporarily unavailable. Please try again shortly.",
  );

/**
 * `work`, or the `unavailable` DomainError once the request's answer time has come. The work is
 * not stopped (JavaScript cannot stop it); its writes are, by their SQL deadline.
 */
export async function withinAnswerTime<T>(
  times: Pick<RequestTimes, "answerBy">,
  work: Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable()), Math.max(0, times.answerBy - Date.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
