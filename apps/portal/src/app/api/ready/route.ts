// GET /api/ready: readiness. 200 when the database answers, every migration is applied and the
// keys are loaded; otherwise 503 with the checks that failed. Always within 5 s.
import { checkReadiness } from "@cowork/api";
import { getServices } from "~/server/services";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  const result = await checkReadiness(async () => (await getServices()).deps);
  return Response.json(result, {
    status: result.status === "ok" ? 200 : 503,
    headers: { "cache-control": "no-store" },
  });
}
