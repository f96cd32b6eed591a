// The router's type for the client. In the repository it is @cowork/api's AppRouter itself; the
// build spells it out (scripts/portal-router.ts), so that the published declarations name
// neither @cowork/api nor the server's packages behind it. Code imports it as `#portal-router`.
import type { AppRouter } from "@cowork/api";

export type PortalRouter = AppRouter;
