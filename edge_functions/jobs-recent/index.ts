// jobs-recent: recent jobs of the caller's workspace, newest first (api.list_jobs), with the
// filters status, type, queue, executor_id and a period (since, until: timestamps), and keyset
// pagination: pass `next` of a page as `after` to get the following one. limit 1-1000
// (default 50).
import { callApi, edgeFunction, integer, text } from "../_shared/http.ts";

interface Row {
  job: Record<string, unknown>;
  cursor: string;
}

export default edgeFunction(
  { name: "jobs-recent", cacheControl: "private, max-age=2" },
  async (req, args) => {
    const limit = integer(args, "limit") ?? 50;
    const rows = (await callApi(req, "list_jobs", {
      status: text(args, "status"),
      type: text(args, "type"),
      queue: text(args, "queue"),
      executor_id: text(args, "executor_id"),
      created_after: text(args, "since"),
      created_before: text(args, "until"),
      after: text(args, "after"),
      limit,
    })) as Row[];
    return {
      jobs: rows.map((r) => r.job),
      next: rows.length === limit ? rows[rows.length - 1].cursor : null,
    };
  },
);
