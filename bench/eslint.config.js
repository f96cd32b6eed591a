export { default } from "@cowork/eslint-config";
