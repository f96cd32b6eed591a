// Public surface of the API package.
export { appRouter, createCaller, type AppRouter } from "./root";
export { createContext, resolveSession, type BrowserSession, type Context } from "./context";
export { loadConfig, ConfigError, parseOtpKey, type ServiceConfig } from "./config";
export { canonicalAddress, TrustedProxies } from "./addresses";
export { DomainError, domainErrorOf, ERROR_STATUS, toTRPCError, type ErrorCode } from "./errors";
export { createServiceDeps } from "./services";
export type { RequestMeta, ServiceDeps } from "./services/deps";
export {
  ANSWER_WITHIN_MS,
  requestTimes,
  withinAnswerTime,
  type RequestTimes,
} from "./services/deadline";
export type { SessionContext } from "./services/sessions";
export type { IssuedAccessToken } from "./services/sign-in";
export { AUDIT_TYPES, type AuditType } from "./services/audit";
export {
  accessLogger,
  createLogger,
  logger,
  requestLogger,
  scrub,
  serializeError,
  setLogLevel,
  LOG_LEVELS,
  type Logger,
  type LogLevel,
} from "./observability/logger";
export { logFailure } from "./observability/failures";
export {
  metrics,
  renderMetrics,
  countLiveImpersonatedSessions,
  METRICS_CONTENT_TYPE,
} from "./observability/metrics";
export {
  checkMetricsAccess,
  isLoopback,
  sameSecret,
  type MetricsRequest,
} from "./observability/metrics-access";
export { checkReadiness, READY_WITHIN_MS } from "./observability/health";
export { pageScope, renderInPageScope, type PageScope } from "./page-scope";
export {
  createSmtpSender,
  recentOutboxMail,
  startMailWorker,
  type MailWorker,
  type OutboxMail,
} from "./mail";
export { credentialOf, dpopRequest, type DpopRequest } from "./services/dpop";
export { startAuditSealer, SEAL_INTERVAL_MS, type AuditSealer } from "./services/audit-log/sealer";
export { sealAll, sealLocation } from "./services/audit-log/seal";
export {
  startWebhookWorker,
  type WebhookWorker,
  type WebhookWorkerOptions,
} from "./services/webhooks";
export { OutboundAllowList } from "./outbound";
export { RETENTION_INTERVAL_MS, startRetentionJob, type RetentionJob } from "./services/retention";
export { sealBacklog, unsealedCount } from "./services/audit-log/seal-backlog";
export {
  describePlan,
  explainStatements,
  recordHotStatements,
  type ExplainedStatement,
  type HotPathSubjects,
} from "./hot-plans";
