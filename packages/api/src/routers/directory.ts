// The people views of the portal: operator console search and team permissions table.
import { searchCoworkersInput } from "@cowork/validators";
import { listTeamMembers, searchCoworkers } from "../services/directory";
import { authedProcedure, router, staffProcedure } from "../trpc";

export const directoryRouter = router({
  searchCoworkers: staffProcedure
    .input(searchCoworkersInput)
    .query(({ ctx, input }) => searchCoworkers(ctx.deps, ctx.session, input)),

  listTeamMembers: authedProcedure.query(async ({ ctx }) => ({
    teams: await listTeamMembers(ctx.deps, ctx.session),
  })),
});
