// Impersonation: issue a single-use token (staff or team admin), exchange it for a session of
// the target, stop that session. Each change and its audit event are one SQL statement.
export {
  admitIssuer,
  issueForStaff,
  issueForTeam,
  locationTarget,
  teamTarget,
  type ImpersonationTarget,
  type IssueRequest,
  type TargetLookup,
} from "./issue";
export { exchange } from "./exchange";
export {
  issueRefusalEvent,
  refuse,
  refuseByRule,
  refusalRecord,
  type RefusalEvent,
} from "./refusals";
export { lastReturnPath, leave, stopImpersonating, type LeavingBrowser } from "./stop";
