// POST /api/sys/users/exchange: impersonation token for a session.
import { rest } from "@cowork/api/rest";
import { restRoute } from "~/server/rest-route";

export const dynamic = "force-dynamic";
export const POST = restRoute(rest.exchange);
