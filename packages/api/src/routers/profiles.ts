// Profiles: list, switch, and who accessed my account.
import {
  accessHistoryOutput,
  profileListOutput,
  profileOutput,
  setCurrentProfileInput,
} from "@cowork/validators";
import { accessHistory, listProfiles, setCurrentProfile } from "../services/profiles";
import { authedProcedure, ownSessionProcedure, router } from "../trpc";

export const profilesRouter = router({
  listProfiles: authedProcedure
    .output(profileListOutput)
    .query(({ ctx }) => listProfiles(ctx.deps, ctx.session)),

  setCurrentProfile: ownSessionProcedure("forbidden")
    .input(setCurrentProfileInput)
    .output(profileOutput)
    .mutation(({ ctx, input }) =>
      setCurrentProfile(ctx.deps, ctx.session, input.coworkerId, ctx.meta),
    ),

  accessHistory: ownSessionProcedure("forbidden")
    .output(accessHistoryOutput)
    .query(async ({ ctx }) => ({
      items: await accessHistory(ctx.deps, ctx.session),
    })),
});
