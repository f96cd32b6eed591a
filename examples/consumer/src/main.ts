// `pnpm --filter @cowork/example-consumer start [URL]`: runs the example against a portal.
import { runConsumer } from "./consumer";

const baseUrl = process.argv[2] ?? process.env.PORTAL_URL ?? "http://localhost:3000";
const report = await runConsumer(baseUrl);
console.log(
  `${report.operator} impersonated ${report.impersonated} (actor recorded: ${report.actor}).`,
);
