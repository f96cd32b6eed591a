// The audit log of the active location, for its admins.
import { auditListInput, auditPageOutput } from "@cowork/validators";
import { listAudit } from "../services/audit";
import { adminProcedure, router } from "../trpc";

export const auditRouter = router({
  listEvents: adminProcedure
    .input(auditListInput)
    .output(auditPageOutput)
    .query(({ ctx, input }) => listAudit(ctx.deps.db, ctx.session.locationId, input)),
});
