import "server-only";
// Binds a REST handler of @cowork/api to a Next route: services, client address, path params.
import { domainErrorOf } from "@cowork/api";
import { errorResponse, type RestRequest } from "@cowork/api/rest";
import { getServices, requestMeta } from "./services";

type RestHandler = (input: RestRequest) => Promise<Response>;

export function restRoute(handler: RestHandler) {
  return async (request: Request, context: { params: Promise<Record<string, string>> }) => {
    let services;
    try {
      services = await getServices();
    } catch (error) {
      // Start-up work (keys) needs the database; until it answers, so do we: 503.
      return errorResponse(domainErrorOf(error));
    }
    const { deps } = services;
    return handler({
      request,
      deps,
      meta: requestMeta(request.headers, deps),
      params: await context.params,
    });
  };
}
