// tRPC init, the error-mapping middleware and the chain of base procedures, each named for what
// it guarantees. `t` itself stays private to this module.
import { initTRPC } from "@trpc/server";
import { impersonateInput } from "@cowork/validators";
import { type Context } from "./context";
import { DomainError, domainErrorOf, toTRPCError } from "./errors";
import { withinAnswerTime } from "./services/deadline";
import {
  admitIssuer,
  issueRefusalEvent,
  locationTarget,
  refuse,
  teamTarget,
  type TargetLookup,
} from "./services/impersonation";
import { type SessionContext } from "./services/sessions";

export interface Meta {
  /** Mutations a read-only impersonated session may still call (ending the session). */
  allowReadOnly?: boolean;
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    isDev: false,
    errorFormatter({ shape, error }) {
      const domain = domainErrorOf(error);
      return {
        ...shape,
        // Always the domain's sentence, as REST answers it: tRPC's own messages for input
        // errors are zod's issue list as JSON, and for routing errors they name internals.
        message: domain.message,
        data: {
          code: shape.data.code,
          httpStatus: domain.status,
          error: domain.code,
          retryAfter: domain.retryAfterS ?? null,
        },
      };
    },
  });

export const createCallerFactory = t.createCallerFactory;
export const router = t.router;

/**
 * Domain errors and outages become tRPC errors carrying the contract's code. And no procedure
 * keeps its caller past the request's answer time: then it is a 503 (its writes, should they
 * still reach the database, fail on their SQL deadline).
 */
const errorMapping = t.middleware(async ({ ctx, next }) => {
  const result = await withinAnswerTime(ctx.meta, next()).catch((error: unknown) => {
    throw toTRPCError(domainErrorOf(error));
  });
  // Input errors keep their own code; a DomainError thrown by a service, an outage or a bug
  // arrive as INTERNAL_SERVER_ERROR and are mapped here, once.
  if (!result.ok && result.error.code === "INTERNAL_SERVER_ERROR") {
    throw toTRPCError(domainErrorOf(result.error));
  }
  return result;
});

/**
 * Every call an impersonated session makes is recorded (CONTRACT §9), whatever became of it. First
 * in the chain, so it sees what every later step did: a refusal by the session checks, read-only
 * or rank (thrown in a later middleware), an input the schema refused, a domain error, and the
 * answer-time 503 of the error mapping. The record is handed to the process's writer, which
 * writes it with others in one statement: the call itself waits for nothing. Own sessions are
 * never recorded, and the exchange that creates an impersonated session is called by the actor
 * (or by no session), so it is never an action of the session it creates.
 */
const recordImpersonatedCalls = t.middleware(async ({ ctx, path, type, next }) => {
  const session = ctx.session?.impersonation ? ctx.session : null;
  if (!session) return next();
  const at = new Date();
  const result = await next();
  ctx.deps.actions.record({
    sessionId: session.id,
    locationId: session.locationId,
    at,
    procedure: path,
    kind: type === "mutation" ? "mutation" : "query",
    // A 4xx is the service saying no (authorization, read-only, input, a rule); a 5xx is ours.
    outcome: result.ok ? "success" : domainErrorOf(result.error).status < 500 ? "refused" : "error",
  });
  return result;
});

export const publicProcedure = t.procedure.use(recordImpersonatedCalls).use(errorMapping);

const unauthorized = (message = "Sign in first.") =>
  toTRPCError(new DomainError("unauthorized", message));

/** A live session (checked against the database on this request), whatever it may do. */
const liveSessionProcedure = publicProcedure.use(({ ctx, next }) => {
  if (ctx.sessionError) throw toTRPCError(ctx.sessionError);
  if (!ctx.session) throw unauthorized();
  return next({ ctx: { ...ctx, session: ctx.session } });
});

/** A live session; a read-only impersonation may only read (and end itself). */
export const authedProcedure = liveSessionProcedure.use(({ ctx, next, type, meta }) => {
  if (type === "mutation" && ctx.session.impersonation?.readOnly && !meta?.allowReadOnly) {
    throw toTRPCError(
      new DomainError("read_only", "This is a read-only impersonation: nothing can be changed."),
    );
  }
  return next();
});

/** The caller's own session, not an impersonated one. */
export const ownSessionProcedure = (refusal: "unauthorized" | "forbidden") =>
  authedProcedure.use(({ ctx, next }) => {
    if (ctx.session.impersonation) {
      throw toTRPCError(new DomainError(refusal, "An impersonated session cannot do this."));
    }
    return next({ ctx: { ...ctx, session: { ...ctx.session, impersonation: null } } });
  });

/**
 * A member acting on their own account: their own session (not an impersonated one: 403) with an
 * active coworker profile (none: 403), handed on as `ctx.session.coworkerId`.
 */
export const memberProcedure = ownSessionProcedure("forbidden").use(({ ctx, next }) => {
  const { coworkerId } = ctx.session;
  if (coworkerId === null) {
    throw toTRPCError(
      new DomainError("forbidden", "Only members with a profile here can do this."),
    );
  }
  return next({ ctx: { ...ctx, session: { ...ctx.session, coworkerId } } });
});

/** Admin or operator of the active location. The contract answers 401 to anyone else. */
export const staffProcedure = liveSessionProcedure.use(({ ctx, next }) => {
  const { staffRole } = ctx.session;
  if (!staffRole || ctx.session.impersonation) throw unauthorized("Staff only.");
  return next({ ctx: { ...ctx, session: { ...ctx.session, staffRole, impersonation: null } } });
});

/** Admin of the active location. */
export const adminProcedure = staffProcedure.use(({ ctx, next }) => {
  if (ctx.session.staffRole !== "admin") throw unauthorized("Admins only.");
  return next({ ctx: { ...ctx, session: { ...ctx.session, staffRole: "admin" as const } } });
});

/**
 * Asking for an impersonation token: the whole, strict input is checked first, every refusal is
 * audited (the caller's own included), and the feature switch and the per-actor limit come
 * before any target is considered, so sweeping ids runs into the limit on both routes. The
 * target, found in the limit's own round trip, is handed on in `ctx.found`.
 */
const issuerProcedure = <Found>(
  kind: "staff" | "team",
  lookup: (session: SessionContext, coworkerId: number) => TargetLookup<Found>,
) =>
  liveSessionProcedure.input(impersonateInput).use(async ({ ctx, input, next }) => {
    const event = issueRefusalEvent(ctx.session, input, kind);
    if (ctx.session.impersonation) {
      await refuse(
        ctx.deps,
        ctx.meta,
        event,
        new DomainError("unauthorized", "An impersonated session cannot impersonate."),
        "impersonated",
      );
    }
    if (kind === "staff" && !ctx.session.staffRole) {
      await refuse(
        ctx.deps,
        ctx.meta,
        event,
        new DomainError("unauthorized", "Staff only."),
        "not_staff",
      );
    }
    const found = await admitIssuer(
      ctx.deps,
      ctx.session,
      ctx.meta,
      input,
      kind,
      lookup(ctx.session, input.coworkerId),
    );
    return next({ ctx: { ...ctx, session: { ...ctx.session, impersonation: null }, found } });
  });

/**
 * Staff issuing for a coworker of the active location (`ctx.found`: that coworker, or null). The
 * issuer check above refused anyone without a staff role in the active location.
 */
export const staffIssuerProcedure = issuerProcedure("staff", locationTarget);

/** The caller administers a team, in the active location, that holds the input's target. */
export const teamAdminProcedure = issuerProcedure("team", teamTarget).use(
  async ({ ctx, input, next }) => {
    const { isTeamAdmin, target } = ctx.found;
    const event = issueRefusalEvent(ctx.session, input, "team");
    if (!isTeamAdmin) {
      await refuse(
        ctx.deps,
        ctx.meta,
        event,
        new DomainError("forbidden", "Only team admins can do this."),
        "not_team_admin",
      );
    }
    if (!target) {
      await refuse(
        ctx.deps,
        ctx.meta,
        event,
        new DomainError("not_found", "No such member in a team you administer."),
      );
    }
    return next({ ctx: { ...ctx, target: target! } });
  },
);
