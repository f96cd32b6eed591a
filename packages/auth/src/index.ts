// Tokens, keys and password hashing. Knows nothing of tRPC, Next or the database.
export * from "./keys";
export * from "./password";
export * from "./tokens";
export * from "./session-rules";
export * from "./dpop";
export * from "./checkpoint";
export * from "./security-event";
