// Sign-in, sign-out and who am I.
import { accessTokenOutput, meOutput, signInInput } from "@cowork/validators";
import { DomainError, toTRPCError } from "../errors";
import { bindingKey } from "../services/dpop";
import { signIn, signOut } from "../services/sign-in";
import { type SessionContext } from "../services/sessions";
import { authedProcedure, publicProcedure, router } from "../trpc";

export function describeMe(session: SessionContext) {
  return {
    userId: session.userId,
    email: session.email,
    fullName: session.fullName,
    location: { id: session.locationId, name: session.locationName },
    profile:
      session.coworkerId === null
        ? null
        : {
            coworkerId: session.coworkerId,
            locationId: session.locationId,
            fullName: session.profileName ?? session.fullName,
          },
    staffRole: session.staffRole,
    impersonation: session.impersonation
      ? {
          actor: {
            userId: session.impersonation.actorUserId,
            fullName: session.impersonation.actorName,
          },
          expiresAt: session.expiresAt.toISOString(),
          reason: session.impersonation.reason,
          kind: session.impersonation.kind,
          readOnly: session.impersonation.readOnly,
          reasonCategory: session.impersonation.reasonCategory,
          ticket: session.impersonation.ticket,
        }
      : null,
    authTime: session.authTime.toISOString(),
    amr: session.amr,
  };
}

export const authRouter = router({
  /** Browser calls get the session as an httpOnly cookie, never the token in the body. */
  signIn: publicProcedure
    .input(signInInput)
    .output(accessTokenOutput)
    .mutation(async ({ ctx, input }) => {
      // A DPoP proof is checked (and its jti taken) before anything else: a bad one issues nothing.
      const dpopJkt = await bindingKey(ctx.deps, ctx.dpop, ctx.meta);
      const issued = await signIn(ctx.deps, input, ctx.meta, dpopJkt);
      if (ctx.browser) {
        ctx.browser.setActor(null);
        ctx.browser.setSession(issued);
        return { accessToken: null, expiresIn: issued.expiresIn, tokenType: issued.tokenType };
      }
      return {
        accessToken: issued.accessToken,
        expiresIn: issued.expiresIn,
        tokenType: issued.tokenType,
      };
    }),

  signOut: authedProcedure.meta({ allowReadOnly: true }).mutation(async ({ ctx }) => {
    await signOut(ctx.deps, ctx.session, ctx.meta);
    ctx.browser?.clearSession();
    ctx.browser?.setActor(null);
  }),

  me: authedProcedure.output(meOutput).query(({ ctx }) => describeMe(ctx.session)),
});

export function requireImpersonated(session: SessionContext): void {
  if (!session.impersonation) {
    throw toTRPCError(
      new DomainError("not_impersonating", "This session is not an impersonation."),
    );
  }
}
