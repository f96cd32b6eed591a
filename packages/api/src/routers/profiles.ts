// Profiles: list, switch, and who accessed my account.
import { setCurrentProfileInput } from "@cowork/validators";
import { accessHistory, listProfiles, setCurrentProfile } from "../services/profiles";
import { authedProcedure, ownSessionProcedure, router } from "../trpc";

export const profilesRouter = router({
  listProfiles: authedProcedure.query(({ ctx }) => listProfiles(ctx.deps, ctx.session)),

  setCurrentProfile: ownSessionProcedure("forbidden")
    .input(setCurrentProfileInput)
    .mutation(({ ctx, input }) => setCurrentProfile(ctx.deps, ctx.session, input.coworkerId, ctx.meta)),

  accessHistory: ownSessionProcedure("forbidden").query(async ({ ctx }) => ({
    items: await accessHistory(ctx.deps, ctx.session),
  })),
});
