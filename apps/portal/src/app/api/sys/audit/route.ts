// GET /api/sys/audit: the audit log for admins.
import { rest } from "@cowork/api/rest";
import { restRoute } from "~/server/rest-route";

export const dynamic = "force-dynamic";
export const GET = restRoute(rest.audit);
