// Impersonation: issue (staff, team admin), exchange, stop.
import { accessTokenOutput, exchangeInput, impersonationTokenOutput } from "@cowork/validators";
import {
  exchange,
  issueForStaff,
  issueForTeam,
  leave,
  stopImpersonating,
} from "../services/impersonation";
import { bindingKey } from "../services/dpop";
import {
  authedProcedure,
  publicProcedure,
  router,
  staffIssuerProcedure,
  teamAdminProcedure,
} from "../trpc";
import { requireImpersonated } from "./auth";

export const impersonationRouter = router({
  /** Staff: a token for a coworker of the active location. */
  impersonate: staffIssuerProcedure
    .output(impersonationTokenOutput)
    .mutation(async ({ ctx, input }) => {
      const { token, expiresAt } = await issueForStaff(
        ctx.deps,
        ctx.session,
        ctx.meta,
        input,
        ctx.found,
      );
      return { token, expiresAt: expiresAt.toISOString() };
    }),

  /** Team admin: a token for a member of a team they administer. */
  impersonateTeamMember: teamAdminProcedure
    .output(impersonationTokenOutput)
    .mutation(async ({ ctx, input }) => {
      const { token, expiresAt } = await issueForTeam(
        ctx.deps,
        ctx.session,
        ctx.meta,
        input,
        ctx.target,
      );
      return { token, expiresAt: expiresAt.toISOString() };
    }),

  /**
   * Anyone holding an impersonation token. In the browser the new session replaces the cookie
   * and the actor's own session is kept aside, to come back to on stop.
   */
  exchange: publicProcedure
    .input(exchangeInput)
    .output(accessTokenOutput)
    .mutation(async ({ ctx, input }) => {
      // A bad DPoP proof is refused before the token is looked at: it stays unused.
      const dpopJkt = await bindingKey(ctx.deps, ctx.dpop, ctx.meta);
      const issued = await exchange(ctx.deps, input.token, ctx.meta, dpopJkt);
      if (ctx.browser) {
        const actorToken =
          ctx.session?.id === issued.actorSessionId ? ctx.browser.sessionToken : null;
        ctx.browser.setActor(actorToken, ctx.session?.expiresAt);
        ctx.browser.setSession(issued);
        return { accessToken: null, expiresIn: issued.expiresIn, tokenType: issued.tokenType };
      }
      return {
        accessToken: issued.accessToken,
        expiresIn: issued.expiresIn,
        tokenType: issued.tokenType,
      };
    }),

  /** Ends the impersonated session at once. Takes no input: who to return to is server state. */
  stopImpersonating: authedProcedure.meta({ allowReadOnly: true }).mutation(async ({ ctx }) => {
    requireImpersonated(ctx.session);
    await stopImpersonating(ctx.deps, ctx.session, ctx.meta);
  }),

  /**
   * Browser only: end the impersonation (if it is still live) and return to the actor's own
   * session kept aside at exchange — only if the server's record names that session as the actor's.
   */
  leave: publicProcedure
    .meta({ allowReadOnly: true })
    .mutation(({ ctx }) => leave(ctx.deps, ctx.session, ctx.meta, ctx.browser)),
});
