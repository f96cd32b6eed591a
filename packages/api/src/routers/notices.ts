// The member's notices: each entry into their account, listed and marked read by them alone.
import { markNoticeReadInput, noticeListOutput } from "@cowork/validators";
import { listNotices, markNoticeRead } from "../services/notices/notices";
import { memberProcedure, router } from "../trpc";

export const noticesRouter = router({
  listNotices: memberProcedure
    .output(noticeListOutput)
    .query(async ({ ctx }) => ({ items: await listNotices(ctx.deps, ctx.session) })),

  markNoticeRead: memberProcedure
    .input(markNoticeReadInput)
    .mutation(({ ctx, input }) => markNoticeRead(ctx.deps, ctx.session, input.id, ctx.meta)),
});
