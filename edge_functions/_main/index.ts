// The local Edge Functions runner (`collab stack up` serves it with `deno serve`): one process
// for every function, routing by the first path segment as Supabase's self-hosted `main`
// router does (the gateway strips /functions/v1 and verifies the JWT first).
import artifactsList from "../artifacts-list/index.ts";
import jobsRecent from "../jobs-recent/index.ts";
import metricsOverview from "../metrics-overview/index.ts";
import signArtifact from "../sign-artifact/index.ts";

const functions: Record<string, { fetch: (req: Request) => Promise<Response> }> = {
  "artifacts-list": artifactsList,
  "jobs-recent": jobsRecent,
  "metrics-overview": metricsOverview,
  "sign-artifact": signArtifact,
};

export default {
  fetch(req: Request): Promise<Response> | Response {
    const name = new URL(req.url).pathname.split("/")[1] ?? "";
    const fn = functions[name];
    if (!fn) {
      return Response.json({ code: "NOT_FOUND", message: "Requested function was not found" }, {
        status: 404,
      });
    }
    return fn.fetch(req);
  },
};
