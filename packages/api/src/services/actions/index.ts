// Actions while impersonating (CONTRACT §9): recorded by the procedure chain (trpc.ts), written in
// batches by the process's writer, read by admins, the audit page and the member's history.
export {
  ACTION_WRITER_DEFAULTS,
  ActionWriter,
  realSchedule,
  type ActionRecord,
  type ActionWriterOptions,
  type Schedule,
} from "./writer";
export { listEventActions, listSessionActions } from "./read";
