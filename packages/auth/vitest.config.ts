import { databaseProjects } from "@cowork/vitest-config";

export default databaseProjects();
