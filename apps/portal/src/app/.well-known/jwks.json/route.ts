// GET /.well-known/jwks.json: public keys verifying this service's tokens.
import { rest } from "@cowork/api/rest";
import { restRoute } from "~/server/rest-route";

export const dynamic = "force-dynamic";
export const GET = restRoute(rest.jwks);
