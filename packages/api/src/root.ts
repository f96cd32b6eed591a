// The whole API.
import { auditRouter } from "./routers/audit";
import { authRouter } from "./routers/auth";
import { directoryRouter } from "./routers/directory";
import { impersonationActionsRouter } from "./routers/impersonation-actions";
import { impersonationRouter } from "./routers/impersonation";
import { profilesRouter } from "./routers/profiles";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  impersonation: impersonationRouter,
  profiles: profilesRouter,
  directory: directoryRouter,
  audit: auditRouter,
  impersonationActions: impersonationActionsRouter,
});

export type AppRouter = typeof appRouter;

/** Server-side caller: the same procedures, called in-process with a context built by the caller. */
export const createCaller = createCallerFactory(appRouter);
