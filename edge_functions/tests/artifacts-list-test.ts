// artifacts-list: by job and by prefix, paginated, the caller's workspace only.
import assert from "node:assert/strict";
import { base64, invoke, newWorkspace, rpc } from "./helpers.ts";

Deno.test("artifacts-list: lists the caller's artifacts by job and prefix", async () => {
  const a = await newWorkspace("al-a");
  const b = await newWorkspace("al-b");
  const job = await rpc(a.token, "enqueue", { queue: "al", type: "t" });
  await rpc(a.token, "put_artifact", {
    name: "logs/1.log",
    data: base64("one"),
    media_type: "text/plain",
    job_id: job.id,
  });
  await rpc(a.token, "put_artifact", {
    name: "logs/2.log",
    data: base64("two"),
    media_type: "text/plain",
  });
  await rpc(a.token, "put_artifact", {
    name: "out.json",
    data: base64("{}"),
    media_type: "application/json",
  });
  const byPrefix = await (await invoke("artifacts-list", a.token, { prefix: "logs/" })).json();
  assert.deepEqual(byPrefix.artifacts.map((x: { name: string }) => x.name), [
    "logs/2.log",
    "logs/1.log",
  ]);
  const byJob = await (await invoke("artifacts-list", a.token, { job_id: job.id })).json();
  assert.deepEqual(byJob.artifacts.map((x: { name: string }) => x.name), ["logs/1.log"]);
  const page = await (await invoke("artifacts-list", a.token, { limit: 1 })).json();
  const next = await (await invoke("artifacts-list", a.token, { limit: 1, after: page.next }))
    .json();
  assert.notEqual(page.artifacts[0].id, next.artifacts[0].id);
  const other = await (await invoke("artifacts-list", b.token)).json();
  assert.deepEqual(other.artifacts, [], "another workspace sees none of A's artifacts");
});
