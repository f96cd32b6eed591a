// The webhooks of the active location, for its admins (CONTRACT §9).
import {
  registeredWebhookOutput,
  registerWebhookInput,
  webhookDeliveriesOutput,
  webhookIdInput,
  webhookListOutput,
} from "@cowork/validators";
import { listDeliveries, listWebhooks, registerWebhook, removeWebhook } from "../services/webhooks";
import { adminProcedure, router } from "../trpc";

export const webhooksRouter = router({
  listWebhooks: adminProcedure
    .output(webhookListOutput)
    .query(({ ctx }) => listWebhooks(ctx.deps, ctx.session.locationId)),
  registerWebhook: adminProcedure
    .input(registerWebhookInput)
    .output(registeredWebhookOutput)
    .mutation(({ ctx, input }) =>
      registerWebhook(
        ctx.deps,
        { userId: ctx.session.userId, locationId: ctx.session.locationId },
        input,
        ctx.meta,
      ),
    ),
  removeWebhook: adminProcedure.input(webhookIdInput).mutation(async ({ ctx, input }) => {
    await removeWebhook(
      ctx.deps,
      { userId: ctx.session.userId, locationId: ctx.session.locationId },
      input.id,
      ctx.meta,
    );
  }),
  listDeliveries: adminProcedure
    .input(webhookIdInput)
    .output(webhookDeliveriesOutput)
    .query(({ ctx, input }) => listDeliveries(ctx.deps, ctx.session.locationId, input.id)),
});
