// metrics-overview: the dashboard's one JSON document (api.metrics_overview): per queue depth
// and running jobs, throughput and p50/p95/p99 of queue wait, run time and end to end over the
// last `minutes` (default 15), DLQ size, executors online/stale/offline. GET or POST
// {minutes}. Cached 5 s by the browser (ETag for a 304 after that).
import { callApi, edgeFunction, integer } from "../_shared/http.ts";

interface Overview {
  generated_at?: string;
  window?: { until?: string };
  queues?: { oldest_due_age_seconds?: number }[];
}

/** The document without what only the clock moves: same counts, same ETag (a 304). */
function withoutClock(answer: unknown): unknown {
  const doc = structuredClone(answer) as Overview;
  delete doc.generated_at;
  if (doc.window) delete doc.window.until;
  for (const queue of doc.queues ?? []) delete queue.oldest_due_age_seconds;
  return doc;
}

export default edgeFunction(
  { name: "metrics-overview", cacheControl: "private, max-age=5", etagOf: withoutClock },
  (req, args) => callApi(req, "metrics_overview", { minutes: integer(args, "minutes") }),
);
