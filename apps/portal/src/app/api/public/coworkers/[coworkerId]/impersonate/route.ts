// GET /api/public/coworkers/{coworkerId}/impersonate: team admin impersonation token.
import { rest } from "@cowork/api/rest";
import { restRoute } from "~/server/rest-route";

export const dynamic = "force-dynamic";
export const GET = restRoute(rest.impersonateTeamMember);
