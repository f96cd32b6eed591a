// A member's consent to support access, and ending impersonations of their own account.
import {
  grantSupportAccessInput,
  sessionIdInput,
  supportAccessGrantIdInput,
  supportAccessGrantOutput,
  supportAccessOutput,
} from "@cowork/validators";
import { grantSupportAccess, listSupportAccess, revokeSupportAccess } from "../services/consent";
import { endImpersonationByMember } from "../services/oversight";
import { memberProcedure, router } from "../trpc";

export const supportAccessRouter = router({
  listSupportAccess: memberProcedure
    .output(supportAccessOutput)
    .query(({ ctx }) => listSupportAccess(ctx.deps, ctx.session)),

  grantSupportAccess: memberProcedure
    .input(grantSupportAccessInput)
    .output(supportAccessGrantOutput)
    .mutation(({ ctx, input }) => grantSupportAccess(ctx.deps, ctx.session, input, ctx.meta)),

  revokeSupportAccess: memberProcedure
    .input(supportAccessGrantIdInput)
    .mutation(({ ctx, input }) =>
      revokeSupportAccess(ctx.deps, ctx.session, input.grantId, ctx.meta),
    ),

  endImpersonation: memberProcedure
    .input(sessionIdInput)
    .mutation(({ ctx, input }) =>
      endImpersonationByMember(ctx.deps, ctx.session, input.sessionId, ctx.meta),
    ),
});
