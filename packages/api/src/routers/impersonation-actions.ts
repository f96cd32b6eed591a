// What impersonated sessions did (CONTRACT §9), for the admins of the location.
import {
  eventActionsInput,
  eventActionsOutput,
  sessionActionsInput,
  sessionActionsOutput,
} from "@cowork/validators";
import { listEventActions, listSessionActions } from "../services/actions";
import { adminProcedure, router } from "../trpc";

export const impersonationActionsRouter = router({
  /** One impersonated session's calls, oldest first; 404 when not a session of this location. */
  listSessionActions: adminProcedure
    .input(sessionActionsInput)
    .output(sessionActionsOutput)
    .query(async ({ ctx, input }) => ({
      items: await listSessionActions(ctx.deps, ctx.session.locationId, input.sessionId),
    })),

  /** The audit page: for its events that name an impersonated session, that session's calls. */
  listEventActions: adminProcedure
    .input(eventActionsInput)
    .output(eventActionsOutput)
    .query(async ({ ctx, input }) => ({
      items: await listEventActions(ctx.deps, ctx.session.locationId, input.eventIds),
    })),
});
