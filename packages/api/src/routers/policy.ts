// The location's impersonation policy: staff read it, admins change it.
import { policyOutput, updatePolicyInput } from "@cowork/validators";
import { getPolicy, updatePolicy } from "../services/policy";
import { adminProcedure, router, staffProcedure } from "../trpc";

export const policyRouter = router({
  getPolicy: staffProcedure
    .output(policyOutput)
    .query(({ ctx }) => getPolicy(ctx.deps.db, ctx.session.locationId)),

  updatePolicy: adminProcedure
    .input(updatePolicyInput)
    .output(policyOutput)
    .mutation(({ ctx, input }) => updatePolicy(ctx.deps, ctx.session, input, ctx.meta)),
});
