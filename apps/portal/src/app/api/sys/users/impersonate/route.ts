// GET /api/sys/users/impersonate: staff impersonation token.
import { rest } from "@cowork/api/rest";
import { restRoute } from "~/server/rest-route";

export const dynamic = "force-dynamic";
export const GET = restRoute(rest.impersonateCoworker);
