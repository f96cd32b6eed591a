// The member's notices: each entry into their account, listed and marked read by them alone.
import { markNoticeReadInput, noticeListOutput } from "@cowork/validators";
import { listNotices, markNoticeRead } from "../services/notices/notices";
import { ownSessionProcedure, router } from "../trpc";

/** Any own session, with a profile or not (staff get an empty list); never an impersonated one. */
const ownSession = ownSessionProcedure("forbidden");

export const noticesRouter = router({
  listNotices: ownSession
    .output(noticeListOutput)
    .query(async ({ ctx }) => ({ items: await listNotices(ctx.deps, ctx.session) })),

  markNoticeRead: ownSession
    .input(markNoticeReadInput)
    .mutation(({ ctx, input }) => markNoticeRead(ctx.deps, ctx.session, input.id, ctx.meta)),
});
