import type { Options } from "tsup";
export declare function libraryBuild(entry: Record<string, string>): Options | Options[];
