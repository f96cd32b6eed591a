// Public surface of the API package.
export { appRouter, createCaller, type AppRouter } from "./root";
export { createContext, resolveSession, type BrowserSession, type Context } from "./context";
export { loadConfig, ConfigError, type ServiceConfig } from "./config";
export { DomainError, domainErrorOf, ERROR_STATUS, type ErrorCode } from "./errors";
export { createServiceDeps } from "./services";
export type { RequestMeta, ServiceDeps } from "./services/deps";
export type { SessionContext } from "./services/sessions";
export type { IssuedAccessToken } from "./services/sign-in";
export { AUDIT_TYPES, type AuditType } from "./services/audit";
