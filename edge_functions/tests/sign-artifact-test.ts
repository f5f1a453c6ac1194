// sign-artifact: a Storage-shaped signed URL that downloads the bytes; another workspace and
// its viewers sign nothing of A's; A's viewer signs what they read.
import assert from "node:assert/strict";
import { base64, invite, invoke, newWorkspace, rpc } from "./helpers.ts";

async function sha256(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("sign-artifact: the signed URL downloads the artifact's bytes", async () => {
  const a = await newWorkspace("sa-a");
  const made = await rpc(a.token, "put_artifact", {
    name: "reports/week 1.md",
    data: base64("# week one"),
    media_type: "text/markdown",
  });
  const answer = await invoke("sign-artifact", a.token, { id: made.id, expires_in: 60 });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("cache-control"), "no-store");
  const signed = await answer.json();
  assert.match(
    signed.signedUrl,
    /\/storage\/v1\/object\/sign\/artifacts\/.+\/reports\/week%201\.md\?token=/,
  );
  const download = await fetch(signed.signedUrl);
  assert.equal(download.status, 200);
  assert.equal(download.headers.get("content-type"), "text/markdown");
  assert.equal(await sha256(await download.arrayBuffer()), made.sha256);
  const viewer = await invite(a, "viewer");
  assert.equal((await invoke("sign-artifact", viewer.token, { id: made.id })).status, 200);
});

Deno.test("sign-artifact: nobody signs another workspace's artifact", async () => {
  const a = await newWorkspace("sa-iso-a");
  const b = await newWorkspace("sa-iso-b");
  const viewerB = await invite(b, "viewer");
  const made = await rpc(a.token, "put_artifact", { name: "secret.txt", data: base64("s") });
  for (const token of [b.token, viewerB.token]) {
    const answer = await invoke("sign-artifact", token, { id: made.id });
    assert.equal(answer.status, 404);
    assert.equal(JSON.parse((await answer.json()).details).reason, "artifact_not_found");
  }
  const missing = await invoke("sign-artifact", a.token, {});
  assert.equal(missing.status, 400);
  await missing.body?.cancel();
});
