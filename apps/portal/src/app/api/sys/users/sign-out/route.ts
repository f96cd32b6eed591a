// POST /api/sys/users/sign-out.
import { rest } from "@cowork/api/rest";
import { restRoute } from "~/server/rest-route";

export const dynamic = "force-dynamic";
export const POST = restRoute(rest.signOut);
