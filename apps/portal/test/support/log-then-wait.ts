// A process that logs through the service's logger, for the test of when lines reach standard
// output: "idle" logs one line and then idles until it is killed; "exit" logs one line and exits
// at once.
import { logger } from "@cowork/api";

const mode = process.argv[2];
logger.info({ mode }, "first line");
if (mode === "exit") process.exit(0);
setInterval(() => undefined, 1_000);
