// POST /api/sys/users/stop-impersonating.
import { rest } from "@cowork/api/rest";
import { restRoute } from "~/server/rest-route";

export const dynamic = "force-dynamic";
export const POST = restRoute(rest.stopImpersonating);
