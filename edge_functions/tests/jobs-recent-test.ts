// jobs-recent: newest first, filters, keyset pagination, the caller's workspace only; the
// handler called directly too (as `deno test` of a Supabase function does).
import assert from "node:assert/strict";
import jobsRecent from "../jobs-recent/index.ts";
import { invoke, newWorkspace, rpc } from "./helpers.ts";

Deno.test("jobs-recent: pages and filters the caller's jobs", async () => {
  const a = await newWorkspace("jr-a");
  const b = await newWorkspace("jr-b");
  for (const type of ["one", "two", "three"]) await rpc(a.token, "enqueue", { queue: "jr", type });
  const first = await (await invoke("jobs-recent", a.token, { limit: 2 })).json();
  assert.deepEqual(first.jobs.map((j: { type: string }) => j.type), ["three", "two"]);
  assert.ok(first.next);
  const second = await (await invoke("jobs-recent", a.token, { limit: 2, after: first.next }))
    .json();
  assert.deepEqual(second.jobs.map((j: { type: string }) => j.type), ["one"]);
  assert.equal(second.next, null);
  const byType = await (await invoke("jobs-recent", a.token, { type: "two", status: "queued" }))
    .json();
  assert.equal(byType.jobs.length, 1);
  const bad = await invoke("jobs-recent", a.token, { status: "nope" });
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse((await bad.json()).details).field, "status");
  const other = await (await invoke("jobs-recent", b.token)).json();
  assert.deepEqual(other.jobs, [], "another workspace sees none of A's jobs");
});

Deno.test("jobs-recent: the handler itself forwards the caller's Authorization", async () => {
  const a = await newWorkspace("jr-direct");
  await rpc(a.token, "enqueue", { queue: "jr", type: "direct" });
  const answer = await jobsRecent.fetch(
    new Request("http://functions.local/jobs-recent?limit=5", {
      headers: { authorization: `Bearer ${a.token}` },
    }),
  );
  assert.equal(answer.status, 200);
  assert.deepEqual((await answer.json()).jobs.map((j: { type: string }) => j.type), ["direct"]);
  const anonymous = await jobsRecent.fetch(new Request("http://functions.local/jobs-recent"));
  assert.equal(
    anonymous.status,
    401,
    "anon is refused by PostgREST (no grant), not by the function",
  );
  await anonymous.body?.cancel();
});
