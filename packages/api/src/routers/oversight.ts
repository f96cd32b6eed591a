// Live oversight for admins: every live impersonated session of the location, and ending one.
import { liveImpersonationsOutput, sessionIdInput } from "@cowork/validators";
import { endImpersonationByAdmin, listLocationImpersonations } from "../services/oversight";
import { adminProcedure, router } from "../trpc";

export const oversightRouter = router({
  listImpersonations: adminProcedure
    .output(liveImpersonationsOutput)
    .query(({ ctx }) => listLocationImpersonations(ctx.deps, ctx.session.locationId)),

  endImpersonation: adminProcedure
    .input(sessionIdInput)
    .mutation(({ ctx, input }) =>
      endImpersonationByAdmin(ctx.deps, ctx.session, input.sessionId, ctx.meta),
    ),
});
