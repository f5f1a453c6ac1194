// artifacts-list: the caller's artifacts, newest first (api.list_artifacts), by job_id, name
// prefix, media_type (exact or type/*) and period (since, until), with keyset pagination:
// pass `next` as `after`. limit 1-1000 (default 50).
import { callApi, edgeFunction, integer, text } from "../_shared/http.ts";

interface Row {
  artifact: Record<string, unknown>;
  cursor: string;
}

export default edgeFunction(
  { name: "artifacts-list", cacheControl: "private, max-age=10" },
  async (req, args) => {
    const limit = integer(args, "limit") ?? 50;
    const rows = (await callApi(req, "list_artifacts", {
      job_id: integer(args, "job_id"),
      prefix: text(args, "prefix"),
      media_type: text(args, "media_type"),
      created_after: text(args, "since"),
      created_before: text(args, "until"),
      after: text(args, "after"),
      limit,
    })) as Row[];
    return {
      artifacts: rows.map((r) => r.artifact),
      next: rows.length === limit ? rows[rows.length - 1].cursor : null,
    };
  },
);
