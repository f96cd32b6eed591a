// PUT /api/public/coworkers/profiles/current.
import { rest } from "@cowork/api/rest";
import { restRoute } from "~/server/rest-route";

export const dynamic = "force-dynamic";
export const PUT = restRoute(rest.setCurrentProfile);
