// One line of the HTTP table: an operation measured at each concurrency level, with progress
// logged as it goes (a full run takes minutes).
import { type Operation, measure } from "./http-load";
import { CONCURRENCY, httpPlan } from "./options";
import { log } from "./print";
import type { HttpLine, HttpReport } from "./report";
import { round } from "./stats";

export async function measureLine(
  origin: string,
  operation: Operation,
  label: string,
  serverPid?: number,
): Promise<HttpLine> {
  const line: HttpLine = {};
  for (const concurrency of CONCURRENCY) {
    log(`  ${label} at concurrency ${concurrency} …`);
    const result = await measure(origin, operation, concurrency, httpPlan, serverPid);
    log(
      `    ${result.ratePerS}/s p50 ${result.p50Ms} ms p99 ${result.p99Ms} ms${result.errors ? ` errors ${result.errors} (${result.firstError})` : ""}${result.cpu ? ` · CPU per op: server ${result.cpu.serverMs} ms, PostgreSQL ${result.cpu.postgresMs} ms, load generator ${result.cpu.loadGeneratorMs} ms; machine ${Math.round(result.cpu.machineBusy * 100)} % busy` : ""}`,
    );
    line[`c${concurrency}`] = result;
  }
  return line;
}

/** Requests/s of me and of the flow as multiples of the door floor's, per concurrency. */
export function ratiosToDoorFloor(http: HttpReport): HttpReport["ratioToDoorFloor"] {
  const ratios: HttpReport["ratioToDoorFloor"] = {};
  for (const concurrency of CONCURRENCY) {
    const key = `c${concurrency}` as const;
    const floor = http.doorFloor[key]?.ratePerS;
    const meRate = http.me[key]?.ratePerS;
    const meDpopRate = http.meDpop[key]?.ratePerS;
    const flowRate = http.flow[key]?.ratePerS;
    ratios[`me_${key}`] = floor && meRate ? round(meRate / floor) : null;
    // What binding the token costs `me`: its DPoP-bound rate as a share of the Bearer one.
    ratios[`meDpop_per_me_${key}`] = meRate && meDpopRate ? round(meDpopRate / meRate) : null;
    // A flow is two requests.
    ratios[`flow_requests_${key}`] = floor && flowRate ? round((2 * flowRate) / floor) : null;
  }
  return ratios;
}
