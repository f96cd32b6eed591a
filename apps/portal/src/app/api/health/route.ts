// GET /api/health: liveness. The process is up and serving; no database work.
import { type z } from "zod";
import { type healthResponse } from "@cowork/validators";

export const dynamic = "force-dynamic";

export function GET(): Response {
  const body: z.infer<typeof healthResponse> = { status: "ok" };
  return Response.json(body, { headers: { "cache-control": "no-store" } });
}
