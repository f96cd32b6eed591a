// GET /api/openapi.json: the OpenAPI 3.1 document of the REST surface, generated from the zod
// schemas the procedures use.
import { openApiDocument } from "@cowork/api/rest";

export const dynamic = "force-dynamic";

export function GET(): Response {
  return Response.json(openApiDocument(), { headers: { "cache-control": "public, max-age=300" } });
}
