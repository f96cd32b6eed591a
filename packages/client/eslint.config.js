import config from "@cowork/eslint-config";

// .build/ holds what the build writes before bundling (scripts/portal-router.ts).
export default [{ ignores: [".build/**"] }, ...config];
