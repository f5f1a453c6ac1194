// The RPC contract through Supabase's path with supabase-js, run by Deno: supabase-js -> the
// gateway -> the real PostgREST. Run by tests/py/rest/test_supabase_js.py, which passes the
// stack (or a Supabase project) in SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY,
// SUPABASE_JWT_SECRET, and the api functions with well-typed arguments in COLLAB_API_CALLS.
// The imports are npm: specifiers pinned here and in deno.lock; `make setup` caches them.
import { createClient, type SupabaseClient } from "npm:@supabase/supabase-js@2.119.1";
import assert from "node:assert/strict";
import { userToken as mintUserToken } from "../jwt.ts";

const URL_ = Deno.env.get("SUPABASE_URL")!;
const ANON_KEY = Deno.env.get("SUPABASE_ANON_KEY")!;
const SERVICE_KEY = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!;
const JWT_SECRET = Deno.env.get("SUPABASE_JWT_SECRET")!;
const CALLS: Record<string, Record<string, unknown>> = JSON.parse(
  Deno.env.get("COLLAB_API_CALLS") ?? '{"whoami": {}}',
);
const FOUR_KEYS = ["code", "details", "hint", "message"];

/** A user JWT signed with the project's secret (tests/js/jwt.ts). */
function userToken(sub: string, workspaceId?: string): Promise<string> {
  return mintUserToken(JWT_SECRET, sub, workspaceId);
}

function client(key: string, token?: string): SupabaseClient<any, "api"> {
  return createClient(URL_, key, {
    db: { schema: "api" },
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: token ? { Authorization: `Bearer ${token}` } : {} },
  });
}

type Member = { userId: string; workspaceId: string; client: SupabaseClient<any, "api"> };

/** A new user who creates a workspace (and so owns it), acting in it. */
async function newMember(label: string): Promise<Member> {
  const userId = crypto.randomUUID();
  const made = await client(ANON_KEY, await userToken(userId)).rpc("create_workspace", {
    name: `${label}-${crypto.randomUUID().slice(0, 8)}`,
  });
  assert.equal(made.error, null, JSON.stringify(made.error));
  const workspaceId = made.data.workspace_id as string;
  return { userId, workspaceId, client: client(ANON_KEY, await userToken(userId, workspaceId)) };
}

Deno.test("rpc happy path as a member: enqueue, then get_job by POST and GET", async () => {
  const alice = await newMember("js-happy");
  const enqueued = await alice.client.rpc("enqueue", {
    queue: "js",
    type: "email",
    payload: { to: "a@example.com" },
  });
  assert.equal(enqueued.error, null, JSON.stringify(enqueued.error));
  assert.equal(enqueued.status, 200);
  assert.equal(enqueued.data.status, "queued");
  assert.deepEqual(enqueued.data.payload, { to: "a@example.com" });

  const got = await alice.client.rpc("get_job", { job_id: enqueued.data.id });
  assert.equal(got.error, null);
  assert.equal(got.data.id, enqueued.data.id);

  // a stable function is served on GET (run read-only by PostgREST)
  const listed = await alice.client.rpc("list_jobs", { queue: "js" }, { get: true });
  assert.equal(listed.error, null, JSON.stringify(listed.error));
  assert.deepEqual(listed.data.map((row: { job: { id: number } }) => row.job.id), [
    enqueued.data.id,
  ]);
});

Deno.test("an error carries the four keys, the PT status and the reason in details", async () => {
  const alice = await newMember("js-error");
  const missing = await alice.client.rpc("get_job", { job_id: 987654321 });
  assert.equal(missing.status, 404);
  assert.equal(missing.data, null);
  assert.ok(missing.error);
  assert.deepEqual(Object.keys(missing.error).filter((k) => FOUR_KEYS.includes(k)).sort(), FOUR_KEYS);
  assert.equal(missing.error.code, "PT404");
  assert.equal(JSON.parse(missing.error.details).reason, "job_not_found");

  const invalid = await alice.client.rpc("enqueue", { queue: "", type: "t" });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.error?.code, "PT400");
  const details = JSON.parse(invalid.error!.details);
  assert.equal(details.reason, "invalid_input");
  assert.equal(details.field, "queue");

  const unknown = await alice.client.rpc("whoami", { nope: 1 });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.error?.code, "PGRST202");
});

Deno.test("anon gets 401 on every api function", async () => {
  const anon = client(ANON_KEY);
  const names = Object.keys(CALLS);
  assert.ok(names.length > 0);
  for (const name of names) {
    const answer = await anon.rpc(name, CALLS[name]);
    assert.equal(answer.status, 401, `${name}: ${JSON.stringify(answer.error)}`);
    assert.equal(answer.error?.code, "42501", name);
  }
});

Deno.test("a member of one workspace never sees another's rows", async () => {
  const alice = await newMember("js-alice");
  const bob = await newMember("js-bob");
  const queue = `iso-${crypto.randomUUID().slice(0, 8)}`;
  const job = await alice.client.rpc("enqueue", { queue, type: "secret" });
  assert.equal(job.error, null);

  const bobsJobs = await bob.client.rpc("list_jobs", {});
  assert.equal(bobsJobs.error, null);
  assert.ok(!JSON.stringify(bobsJobs.data).includes(queue));
  const bobsQueue = await bob.client.rpc("list_jobs", { queue });
  assert.deepEqual(bobsQueue.data, []);
  const bobsQueues = await bob.client.rpc("list_queues", {}, { get: true });
  assert.ok(!JSON.stringify(bobsQueues.data).includes(queue));
  const bobsEvents = await bob.client.rpc("events_since", {});
  assert.ok(!JSON.stringify(bobsEvents.data).includes(queue));
  const peek = await bob.client.rpc("get_job", { job_id: job.data.id });
  assert.equal(peek.status, 404);
  assert.equal(peek.error?.code, "PT404");
  const cancel = await bob.client.rpc("cancel", { job_id: job.data.id });
  assert.ok(cancel.status === 404 || cancel.status === 403, String(cancel.status));
  // and a service_role caller without a workspace claim acts in the default one, not alice's
  const service = await client(SERVICE_KEY).rpc("get_job", { job_id: job.data.id });
  assert.equal(service.error?.code, "PT404");
  // alice still sees it
  const mine = await alice.client.rpc("get_job", { job_id: job.data.id });
  assert.equal(mine.data.id, job.data.id);
});
