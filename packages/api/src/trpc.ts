// tRPC init, the error-mapping middleware and the chain of base procedures, each named for what
// it guarantees. `t` itself stays private to this module.
import { initTRPC } from "@trpc/server";
import { impersonateInput } from "@cowork/validators";
import { type Context } from "./context";
import { DomainError, domainErrorOf, toTRPCError } from "./errors";
import { findTeamTarget, refuse } from "./services/impersonation";

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
        message: domain.code === "internal" ? domain.message : shape.message,
        data: { code: shape.data.code, httpStatus: domain.status, error: domain.code, retryAfter: domain.retryAfterS ?? null },
      };
    },
  });

export const createCallerFactory = t.createCallerFactory;
export const router = t.router;

/** Domain errors and outages become tRPC errors carrying the contract's code. */
const errorMapping = t.middleware(async ({ next }) => {
  const result = await next();
  // Input errors and errors already carrying a DomainError pass as they are; anything else
  // (an outage, a bug) is mapped here, once.
  if (!result.ok && result.error.code === "INTERNAL_SERVER_ERROR" && !(result.error.cause instanceof DomainError)) {
    throw toTRPCError(domainErrorOf(result.error));
  }
  return result;
});

export const publicProcedure = t.procedure.use(errorMapping);

const unauthorized = (message = "Sign in first.") => toTRPCError(new DomainError("unauthorized", message));

/** A live session (checked against the database on this request). */
export const authedProcedure = publicProcedure.use(async ({ ctx, next, type, meta }) => {
  if (ctx.sessionError) throw toTRPCError(ctx.sessionError);
  if (!ctx.session) throw unauthorized();
  if (type === "mutation" && ctx.session.impersonation?.readOnly && !meta?.allowReadOnly) {
    throw toTRPCError(new DomainError("read_only", "This is a read-only impersonation: nothing can be changed."));
  }
  return next({ ctx: { ...ctx, session: ctx.session } });
});

/** The caller's own session, not an impersonated one. */
export const ownSessionProcedure = (refusal: "unauthorized" | "forbidden") =>
  authedProcedure.use(({ ctx, next }) => {
    if (ctx.session.impersonation) {
      throw toTRPCError(new DomainError(refusal, "An impersonated session cannot do this."));
    }
    return next({ ctx: { ...ctx, session: { ...ctx.session, impersonation: null } } });
  });

/** Admin or operator of the active location. The contract answers 401 to anyone else. */
export const staffProcedure = authedProcedure.use(({ ctx, next }) => {
  const { staffRole } = ctx.session;
  if (!staffRole || ctx.session.impersonation) throw unauthorized("Staff only.");
  return next({ ctx: { ...ctx, session: { ...ctx.session, staffRole } } });
});

/** Admin of the active location. */
export const adminProcedure = staffProcedure.use(({ ctx, next }) => {
  if (ctx.session.staffRole !== "admin") throw unauthorized("Admins only.");
  return next({ ctx: { ...ctx, session: { ...ctx.session, staffRole: "admin" as const } } });
});

/**
 * The caller administers a team, in the active location, that holds the input's target. The
 * target is resolved once here and handed on in `ctx.target`.
 */
export const teamAdminProcedure = ownSessionProcedure("unauthorized")
  // The whole, strict input: nothing unvalidated reaches the lookup or the audit log.
  .input(impersonateInput)
  .use(async ({ ctx, input, next }) => {
    const { isTeamAdmin, target } = await findTeamTarget(ctx.deps, ctx.session, input.coworkerId);
    const event = {
      type: "impersonation.issued" as const,
      actorUserId: ctx.session.userId,
      coworkerId: input.coworkerId,
      locationId: ctx.session.locationId,
      kind: "team" as const,
      reason: input.reason ?? null,
    };
    if (!isTeamAdmin) {
      await refuse(ctx.deps, ctx.meta, event, new DomainError("forbidden", "Only team admins can do this."), "not_team_admin");
    }
    if (!target) {
      await refuse(ctx.deps, ctx.meta, event, new DomainError("not_found", "No such member in a team you administer."));
    }
    return next({ ctx: { ...ctx, target: target! } });
  });
