// The audit log of the active location, for its admins: the events, the signed checkpoints of
// its Merkle log, and inclusion proofs.
import {
  auditCheckpointPageOutput,
  auditCheckpointsInput,
  auditExportInput,
  auditExportPageOutput,
  auditListInput,
  auditPageOutput,
  auditProofInput,
  auditProofOutput,
} from "@cowork/validators";
import { exportAuditPage, listAudit } from "../services/audit";
import { listCheckpoints, proveInclusion } from "../services/audit-log/read";
import { adminProcedure, router } from "../trpc";

export const auditRouter = router({
  listEvents: adminProcedure
    .input(auditListInput)
    .output(auditPageOutput)
    .query(({ ctx, input }) => listAudit(ctx.deps.db, ctx.session.locationId, input)),
  listCheckpoints: adminProcedure
    .input(auditCheckpointsInput)
    .output(auditCheckpointPageOutput)
    .query(({ ctx, input }) => listCheckpoints(ctx.deps.db, ctx.session.locationId, input)),
  proof: adminProcedure
    .input(auditProofInput)
    .output(auditProofOutput)
    .query(({ ctx, input }) => proveInclusion(ctx.deps.db, ctx.session.locationId, input)),
  /** One page of the export (GET /api/sys/audit/export streams them, asking page by page). */
  exportPage: adminProcedure
    .input(auditExportInput)
    .output(auditExportPageOutput)
    .query(({ ctx, input }) => exportAuditPage(ctx.deps.db, ctx.session.locationId, input)),
});
