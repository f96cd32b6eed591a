// Retention (RETENTION_DAYS, AUDIT_RETENTION_DAYS): the purge steps, a round, and the job.
export { PURGE_STEPS, type PurgeStep, type RetentionCutoffs } from "./steps";
export { PURGE_BATCH, runRetentionRound, type RetentionSettings, type RoundResult } from "./purge";
export {
  describePurged,
  RETENTION_INTERVAL_MS,
  RETENTION_LOCK,
  retentionRound,
  startRetentionJob,
  type RetentionJob,
} from "./job";
