// metrics-overview through the gateway: the caller's workspace only, CORS, ETag/304, the JWT
// checked by the gateway, the per-caller quota (429 with Retry-After), one error shape.
import assert from "node:assert/strict";
import { invoke, newWorkspace, rpc, URL_ } from "./helpers.ts";

Deno.test("metrics-overview: one document of the caller's workspace, cached by ETag", async () => {
  const a = await newWorkspace("mo-a");
  const b = await newWorkspace("mo-b");
  await rpc(a.token, "enqueue", { queue: "mo-only-a", type: "t" });
  const answer = await invoke("metrics-overview", a.token);
  assert.equal(answer.status, 200);
  const doc = await answer.json();
  assert.deepEqual(doc.queues.map((q: { queue: string }) => q.queue), ["mo-only-a"]);
  assert.equal(doc.queues[0].depth, 1);
  for (const key of ["throughput", "latency", "dlq_size", "executors"]) assert.ok(key in doc, key);
  assert.ok(answer.headers.get("cache-control")?.includes("max-age"));
  const etag = answer.headers.get("etag")!;
  const again = await invoke("metrics-overview", a.token, null, { "if-none-match": etag });
  assert.equal(again.status, 304);
  await again.body?.cancel();
  const other = await (await invoke("metrics-overview", b.token)).json();
  assert.deepEqual(other.queues, [], "another workspace sees none of A's queues");
});

Deno.test("metrics-overview: CORS preflight, no JWT, a bad JWT", async () => {
  const preflight = await fetch(`${URL_}/functions/v1/metrics-overview`, {
    method: "OPTIONS",
    headers: { origin: "http://example.test", "access-control-request-method": "POST" },
  });
  assert.equal(preflight.status, 200);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
  await preflight.body?.cancel();
  const none = await invoke("metrics-overview", null);
  assert.equal(none.status, 401);
  assert.equal((await none.json()).code, "UNAUTHORIZED_NO_AUTH_HEADER");
  const bad = await invoke("metrics-overview", "not.a.jwt");
  assert.equal(bad.status, 401);
  assert.equal(bad.headers.get("sb-error-code"), "UNAUTHORIZED_INVALID_JWT_FORMAT");
  await bad.body?.cancel();
});

Deno.test("metrics-overview: the per-caller quota answers 429 with Retry-After", async () => {
  const a = await newWorkspace("mo-quota");
  await rpc(a.token, "configure_rate_limit", {
    action: "functions",
    scope: "user",
    rate_per_second: 0.01,
    burst: 1,
  });
  const first = await invoke("metrics-overview", a.token);
  assert.equal(first.status, 200);
  await first.body?.cancel();
  const second = await invoke("metrics-overview", a.token);
  assert.equal(second.status, 429);
  assert.ok(Number(second.headers.get("retry-after")) >= 1);
  const body = await second.json();
  assert.deepEqual(Object.keys(body).sort(), ["code", "details", "hint", "message"]);
  assert.equal(JSON.parse(body.details).reason, "rate_limited");
});
