// The end-to-end tests drive Debian's Chromium (browser downloads do not work here). Installs
// the `chromium` package with apt-get when it is missing, or stops with a clear message.
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";

const CHROMIUM = "/usr/bin/chromium";

if (!existsSync(CHROMIUM)) {
  const asRoot = process.getuid?.() === 0;
  const sudo = asRoot ? "" : "sudo ";
  console.log(`${CHROMIUM} is missing: installing Debian's chromium package (apt-get)…`);
  try {
    execSync(
      `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends chromium`,
      {
        stdio: "inherit",
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      },
    );
  } catch {
    console.error(
      `Could not install chromium. Install it yourself (apt-get install chromium) and run the tests again.`,
    );
    process.exit(1);
  }
  if (!existsSync(CHROMIUM)) {
    console.error(`apt-get finished but ${CHROMIUM} is still missing.`);
    process.exit(1);
  }
}
