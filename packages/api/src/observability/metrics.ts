// Prometheus metrics of the service (prom-client's default registry). Every metric is looked up
// in the registry before it is created, so a module loaded twice in one process (a test runner's
// re-import) still counts into the same series.
import { impersonationGrants, preparedRead, sessions } from "@cowork/db";
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  register,
  type Metric,
} from "prom-client";
import { type ServiceDeps } from "../services/deps";
import { grantStillValid } from "../services/grant-rules";

function shared<M extends Metric>(name: string, create: () => M): M {
  return (register.getSingleMetric(name) as M | undefined) ?? create();
}

const tokensIssued = shared(
  "cowork_impersonation_tokens_issued_total",
  () =>
    new Counter({
      name: "cowork_impersonation_tokens_issued_total",
      help: "Impersonation tokens issued.",
      labelNames: ["kind"],
    }),
);

const exchanges = shared(
  "cowork_impersonation_exchanges_total",
  () =>
    new Counter({
      name: "cowork_impersonation_exchanges_total",
      help: "Impersonation tokens exchanged for a session.",
    }),
);

const refusals = shared(
  "cowork_impersonation_refusals_total",
  () =>
    new Counter({
      name: "cowork_impersonation_refusals_total",
      help: "Impersonation requests refused, by what was refused (issue, exchange) and why.",
      labelNames: ["type", "reason"],
    }),
);

const throttled = shared(
  "cowork_throttled_total",
  () =>
    new Counter({
      name: "cowork_throttled_total",
      help: "Requests refused with 429, by limit.",
      labelNames: ["scope"],
    }),
);

// Sign-in failures and token refusals that carry no location (an unknown email, a token that does
// not verify) are in the audit log under no location, where no admin's view shows them; these
// two series are where operators see them.
const signinFailures = shared(
  "cowork_signin_failures_total",
  () =>
    new Counter({
      name: "cowork_signin_failures_total",
      help: "Failed sign-ins, by reason (unknown_email, wrong_password, throttled).",
      labelNames: ["reason"],
    }),
);

const tokenRefusals = shared(
  "cowork_token_refusals_total",
  () =>
    new Counter({
      name: "cowork_token_refusals_total",
      help: "Bearer and impersonation tokens refused because they did not verify, by kind and reason.",
      labelNames: ["kind", "reason"],
    }),
);

const liveImpersonations = shared(
  "cowork_impersonated_sessions_live",
  () =>
    new Gauge({
      name: "cowork_impersonated_sessions_live",
      help: "Impersonated sessions alive now (read from the database at scrape time).",
    }),
);

const requestDuration = shared(
  "cowork_http_request_duration_seconds",
  () =>
    new Histogram({
      name: "cowork_http_request_duration_seconds",
      help: "HTTP request latency by route pattern, method and status.",
      labelNames: ["route", "method", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
);

const actionsDropped = shared(
  "cowork_impersonation_actions_dropped_total",
  () =>
    new Counter({
      name: "cowork_impersonation_actions_dropped_total",
      help: "Records of impersonated sessions' actions that were never written, by why (database: the writes kept failing; buffer_full: too many waiting).",
      labelNames: ["reason"],
    }),
);

const retentionPurged = shared(
  "cowork_retention_purged_total",
  () =>
    new Counter({
      name: "cowork_retention_purged_total",
      help: "Rows the retention job deleted (RETENTION_DAYS, AUDIT_RETENTION_DAYS), by table.",
      labelNames: ["table"],
    }),
);

const retentionRounds = shared(
  "cowork_retention_rounds_total",
  () =>
    new Counter({
      name: "cowork_retention_rounds_total",
      help: "Retention rounds of this process, by outcome (ran; skipped: another process held the lock; failed).",
      labelNames: ["outcome"],
    }),
);

// The process metrics (CPU, memory, event loop), once per registry.
if (!register.getSingleMetric("process_cpu_user_seconds_total")) collectDefaultMetrics();

/** What the services report. Each call is one line at the place the event happens. */
export const metrics = {
  tokenIssued(kind: "staff" | "team"): void {
    tokensIssued.inc({ kind });
  },
  exchanged(): void {
    exchanges.inc();
  },
  /** type: the audit type of what was refused; reason: a short code, never free text. */
  refused(type: "impersonation.issued" | "impersonation.exchanged", reason: string): void {
    refusals.inc({ type, reason });
  },
  throttled(scope: "signin" | "impersonate"): void {
    throttled.inc({ scope });
  },
  signinFailed(reason: "unknown_email" | "wrong_password" | "throttled"): void {
    signinFailures.inc({ reason });
  },
  /**
   * kind: which token (`access`: a bearer or cookie session token; `impersonation`: an
   * impersonation token at the exchange); reason: the verifier's reason as a code (a fixed set).
   */
  tokenRefused(kind: "access" | "impersonation", reason: string): void {
    tokenRefusals.inc({ kind, reason: reasonCode(reason) });
  },
  /** Recorded by the portal server once per request; `route` is a pattern, never a raw path. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    requestDuration.observe({ route, method, status: String(status) }, seconds);
  },
  /** Action records given up (services/actions/writer.ts). */
  actionsDropped(reason: "database" | "buffer_full", count: number): void {
    actionsDropped.inc({ reason }, count);
  },
  /** Rows a retention round deleted from `table` (services/retention). */
  purged(table: string, count: number): void {
    retentionPurged.inc({ table }, count);
  },
  retentionRound(outcome: "ran" | "skipped" | "failed"): void {
    retentionRounds.inc({ outcome });
  },
};

/** "unknown key" → unknown_key, "ERR_JWS_INVALID" → jws_invalid: label values stay short codes. */
function reasonCode(reason: string): string {
  return (
    reason
      .toLowerCase()
      .replace(/^err_/, "")
      .replace(/[^a-z0-9]+/g, "_")
      .replace(/^_|_$/g, "")
      .slice(0, 48) || "malformed"
  );
}

// Aliased as the rule's fragment (grantStillValid, grant-rules.ts) names the grant: g.
const s = alias(sessions, "s");
const g = alias(impersonationGrants, "g");

const liveImpersonatedCount = preparedRead("metrics_live_impersonated_sessions", (db) =>
  db
    .select({ n: sql<number>`count(*)::int` })
    .from(s)
    .innerJoin(g, eq(g.jti, s.grantJti))
    .where(and(isNull(s.revokedAt), gt(s.expiresAt, sql`now()`), grantStillValid)),
);

/** Impersonated sessions that still work: not revoked, not expired, grant still valid. */
export async function countLiveImpersonatedSessions(deps: ServiceDeps): Promise<number> {
  const [row] = await liveImpersonatedCount(deps.db, {});
  return row?.n ?? 0;
}

export const METRICS_CONTENT_TYPE = register.contentType;

const GAUGE_QUERY_TIMEOUT_MS = 2000;

/**
 * The exposition text. The live-session gauge is read from the database now; when the database
 * does not answer (in time), the gauge reads NaN rather than a stale or made-up number.
 */
export async function renderMetrics(deps: ServiceDeps | null): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    if (!deps) throw new Error("services not started");
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timed out")), GAUGE_QUERY_TIMEOUT_MS);
    });
    liveImpersonations.set(await Promise.race([countLiveImpersonatedSessions(deps), timeout]));
  } catch {
    liveImpersonations.set(Number.NaN);
  } finally {
    clearTimeout(timer);
  }
  return register.metrics();
}
