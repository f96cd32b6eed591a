// Step-up and one-time-code apps (CONTRACT §10): proving the password (and code) again, and
// enrolling or removing an app. Every procedure takes the caller's own session: 401 without
// one, 403 from an impersonated one.
import {
  confirmOtpInput,
  otpEnrolmentOutput,
  otpStatusOutput,
  reauthenticateInput,
} from "@cowork/validators";
import { confirmOtp, enrolOtp, otpStatus, removeOtp } from "../services/otp";
import { reauthenticate } from "../services/step-up";
import { ownSessionProcedure, router } from "../trpc";

const own = ownSessionProcedure("forbidden");

export const securityRouter = router({
  /** The password again (and a code where an app is enrolled): the session's proof is now. */
  reauthenticate: own.input(reauthenticateInput).mutation(async ({ ctx, input }) => {
    await reauthenticate(ctx.deps, ctx.session, input, ctx.meta);
  }),

  /** Whether the caller has an app enrolled (or one waiting for its first code). */
  otpStatus: own.output(otpStatusOutput).query(async ({ ctx }) => ({
    ...(await otpStatus(ctx.deps, ctx.session.userId)),
    stepUpMaxAgeSeconds: ctx.deps.config.stepUpMaxAgeS,
  })),

  /** A new secret to enrol (replacing one not yet confirmed); 409 once an app is enrolled. */
  enrolOtp: own
    .output(otpEnrolmentOutput)
    .mutation(({ ctx }) => enrolOtp(ctx.deps, ctx.session, ctx.meta)),

  /** The first code of the app being enrolled: enrolled from now on. */
  confirmOtp: own.input(confirmOtpInput).mutation(async ({ ctx, input }) => {
    await confirmOtp(ctx.deps, ctx.session, input.code, ctx.meta);
  }),

  /** Removes the app, only after a recent step-up with its code. */
  removeOtp: own.mutation(async ({ ctx }) => {
    await removeOtp(ctx.deps, ctx.session, ctx.meta);
  }),
});
