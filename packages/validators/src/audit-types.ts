// The audit log's event types, on their own so that inputs and responses can both name them
// without importing each other.
import { z } from "zod";

export const auditTypeSchema = z.enum([
  "signin",
  "signin.failed",
  "impersonation.issued",
  "impersonation.exchanged",
  "impersonation.stopped",
  "impersonation.expired",
  "session.signed_out",
  "profile.switched",
  "policy.changed",
  "consent.granted",
  "consent.revoked",
  "impersonation.terminated",
  "session.reauthenticated",
  "otp.enrolled",
  "otp.removed",
  "webhook.registered",
  "webhook.removed",
]);
