// Database settings of the command-line tools: the database's part of the service's schema
// (../config.ts), so the tools and the server read every variable the same way.
import { ConfigError, loadDatabaseConfig, type DatabaseConfig } from "../config";

/** The settings of `process.env`, or one line on standard error and exit status 1. */
export function databaseSettings(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  try {
    return loadDatabaseConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
}
