// `pnpm --filter @cowork/bench exec tsx src/summarize-profile.ts FILE.cpuprofile…`
import { printProfile, summarizeProfile } from "./profile";

for (const file of process.argv.slice(2))
  printProfile(summarizeProfile(file, 40), (line) => console.log(line));
