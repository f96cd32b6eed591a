// The whole API.
import { auditRouter } from "./routers/audit";
import { authRouter } from "./routers/auth";
import { directoryRouter } from "./routers/directory";
import { impersonationActionsRouter } from "./routers/impersonation-actions";
import { impersonationRouter } from "./routers/impersonation";
import { oversightRouter } from "./routers/oversight";
import { policyRouter } from "./routers/policy";
import { noticesRouter } from "./routers/notices";
import { profilesRouter } from "./routers/profiles";
import { supportAccessRouter } from "./routers/support-access";
import { securityRouter } from "./routers/security";
import { webhooksRouter } from "./routers/webhooks";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  impersonation: impersonationRouter,
  profiles: profilesRouter,
  directory: directoryRouter,
  audit: auditRouter,
  policy: policyRouter,
  supportAccess: supportAccessRouter,
  oversight: oversightRouter,
  notices: noticesRouter,
  security: securityRouter,
  impersonationActions: impersonationActionsRouter,
  webhooks: webhooksRouter,
});

export type AppRouter = typeof appRouter;

/** Server-side caller: the same procedures, called in-process with a context built by the caller. */
export const createCaller = createCallerFactory(appRouter);
