"""Every statement the Python client sends: one call of an ``api`` function each.

Named arguments (``queue => %(queue)s``) so that the SQL reads like the PostgREST JSON body.
"""

from __future__ import annotations

ENQUEUE = """
select * from api.enqueue(queue => %(queue)s, type => %(type)s, payload => %(payload)s,
  priority => %(priority)s, run_at => %(run_at)s, max_attempts => %(max_attempts)s,
  idempotency_key => %(idempotency_key)s, delay => %(delay)s)
"""

ENQUEUE_BATCH = "select * from api.enqueue_batch(jobs => %(jobs)s)"

REGISTER_EXECUTOR = """
select api.register_executor(name => %(name)s, queues => %(queues)s,
  heartbeat_seconds => %(heartbeat_seconds)s)
"""

CLAIM = """
select * from api.claim(executor_id => %(executor_id)s, queues => %(queues)s,
  max_jobs => %(max_jobs)s, lease_seconds => %(lease_seconds)s)
"""

HEARTBEAT = (
    "select * from api.heartbeat(executor_id => %(executor_id)s, job_ids => %(job_ids)s,"
    " lease_tokens => %(lease_tokens)s)"
)

COMPLETE = """
select * from api.complete(job_id => %(job_id)s, lease_token => %(lease_token)s,
  result => %(result)s)
"""

COMPLETE_BATCH = "select * from api.complete_batch(items => %(items)s)"

FAIL = """
select * from api.fail(job_id => %(job_id)s, lease_token => %(lease_token)s, error => %(error)s,
  retryable => %(retryable)s, retry_in => %(retry_in)s)
"""

PROGRESS = """
select * from api.progress(job_id => %(job_id)s, lease_token => %(lease_token)s,
  progress => %(progress)s::numeric, message => %(message)s)
"""

CANCEL = "select * from api.cancel(job_id => %(job_id)s)"

REQUEUE = "select * from api.requeue(job_ids => %(job_ids)s)"

PURGE_DEAD = "select api.purge_dead(queue => %(queue)s, older_than => %(older_than)s)"

PAUSE_QUEUE = "select * from api.pause_queue(queue => %(queue)s)"

RESUME_QUEUE = "select * from api.resume_queue(queue => %(queue)s)"

CONFIGURE_QUEUE = """
select * from api.configure_queue(queue => %(queue)s, concurrency_limit => %(concurrency_limit)s,
  lease_seconds => %(lease_seconds)s, max_attempts => %(max_attempts)s,
  backoff_base_seconds => %(backoff_base_seconds)s, backoff_max_seconds => %(backoff_max_seconds)s,
  backoff_jitter => %(backoff_jitter)s)
"""

GET_JOB = "select api.get_job(job_id => %(job_id)s)"

LIST_JOBS = """
select (l.job).*, l.cursor from api.list_jobs(status => %(status)s, type => %(type)s,
  queue => %(queue)s, executor_id => %(executor_id)s, created_after => %(created_after)s,
  created_before => %(created_before)s, after => %(after)s, "limit" => %(limit)s) l
"""

LIST_QUEUES = """
select (l.queue).*, l.queued, l.running, l.succeeded, l.cancelled, l.dead
  from api.list_queues("limit" => %(limit)s, after => %(after)s) l
"""

EVENTS_SINCE = """
select * from api.events_since(cursor => %(cursor)s, "limit" => %(limit)s, queue => %(queue)s,
  job_id => %(job_id)s, types => %(types)s)
"""

REAP = "select api.reap() as reap"

# -- realtime (docs/realtime.md) ------------------------------------------------------------
# The caller and the LISTEN channels of their workspace (jobs_channel, events_channel). The
# channels are quoted identifiers (they hold ':' and '-'): LISTEN {} with sql.Identifier.
WHOAMI = "select api.whoami() as whoami"

LISTEN_CHANNEL = "listen {}"

# A worker's turn to claim on its lane's wake-ups (docs/scaling.md, "Many idle workers"),
# waited for and given up on its listen connection: a session-level lock, never on a pool's.
WAIT_TURN = (
    "select api.wait_turn(executor_id => %(executor_id)s, queues => %(queues)s,"
    " wait_ms => %(wait_ms)s) as turn"
)
END_TURN = "select api.end_turn() as ended"

# -- claims (sent with every call of a client that has claims) ------------------------------
# Transaction-local, as PostgREST sets them: sent in the same pipeline (one round trip, one
# transaction) as the api call that follows it, so a pooled server connection keeps nothing.
SET_CLAIMS = "select set_config('request.jwt.claims', %s, true)"

LIST_EXECUTORS = "select * from api.list_executors()"

PURGE_EVENTS = """
select api.purge_events(older_than => %(older_than)s, batch_size => %(batch_size)s) as purged
"""

CHECK_INVARIANTS = "select * from api.check_invariants()"

# -- metrics (docs/metrics.md) --------------------------------------------------------------
METRICS_SUMMARY = "select api.metrics_summary(since => %(since)s, queue => %(queue)s) as summary"

METRICS_PROMETHEUS = "select api.metrics_prometheus() as exposition"

# -- tenancy (docs/architecture.md) ---------------------------------------------------------
CREATE_WORKSPACE = "select api.create_workspace(name => %(name)s) as workspace"
ADD_MEMBER = "select api.add_member(user_id => %(user_id)s, role => %(role)s) as member"
# Invitations (finding 3): an admin's add_member of a non-member invites; the invitee accepts.
REMOVE_MEMBER = "select api.remove_member(user_id => %(user_id)s) as member"
LEAVE_WORKSPACE = "select api.leave_workspace() as membership"
LIST_INVITATIONS = "select * from api.list_invitations()"
ACCEPT_INVITATION = "select api.accept_invitation(workspace_id => %(workspace_id)s) as membership"
DECLINE_INVITATION = "select api.decline_invitation(workspace_id => %(workspace_id)s) as invitation"
CONFIGURE_WORKSPACE = """
select api.configure_workspace(max_payload_bytes => %(max_payload_bytes)s,
  max_queued_jobs => %(max_queued_jobs)s) as workspace
"""
# Operator limits (service role) and the limits in force in the caller's workspace.
CONFIGURE_LIMITS = """
select api.configure_limits(workspace_id => %(workspace_id)s,
  workspaces_per_user => %(workspaces_per_user)s, queues => %(queues)s,
  executors => %(executors)s, stored_jobs => %(stored_jobs)s,
  payload_ceiling_bytes => %(payload_ceiling_bytes)s) as limits
"""
GET_LIMITS = "select api.get_limits() as limits"
CONFIGURE_RATE_LIMIT = """
select api.configure_rate_limit(action => %(action)s, scope => %(scope)s,
  rate_per_second => %(rate_per_second)s, burst => %(burst)s, shards => %(shards)s) as rate_limit
"""

# -- search (issue 16, docs/search.md) ------------------------------------------------------
INDEX_DOCUMENTS = (
    "select api.index_documents(collection => %(collection)s, documents => %(documents)s) as result"
)
SEARCH = """
select * from api.search(collection => %(collection)s, query => %(query)s, k => %(k)s,
  filters => %(filters)s, highlights => %(highlights)s)
"""
DROP_COLLECTION = "select api.drop_collection(collection => %(collection)s) as dropped"

# -- LLM routing (docs/routing.md) ----------------------------------------------------------
PUT_ROUTE = """
select api.put_route(service => %(service)s, name => %(name)s, provider => %(provider)s,
  model => %(model)s, base_url => %(base_url)s, input_price => %(input_price)s,
  output_price => %(output_price)s, context_window => %(context_window)s,
  capabilities => %(capabilities)s, tags => %(tags)s, region => %(region)s,
  data_collection => %(data_collection)s, weight => %(weight)s, rpm => %(rpm)s, tpm => %(tpm)s,
  secret_name => %(secret_name)s, enabled => %(enabled)s) as route
"""
LIST_ROUTES = "select r as route from api.list_routes(service => %(service)s) r"
CONFIGURE_ROUTING = """
select api.configure_routing(service => %(service)s, strategy => %(strategy)s,
  settings => %(settings)s) as routing
"""
RANK_ROUTES = "select api.rank_routes(service => %(service)s, request => %(request)s) as snapshot"
RECORD_ROUTE_OUTCOME = """
select api.record_route_outcome(snapshot_id => %(snapshot_id)s, route => %(route)s,
  status => %(status)s, latency_ms => %(latency_ms)s, input_tokens => %(input_tokens)s,
  output_tokens => %(output_tokens)s, cost => %(cost)s, error => %(error)s,
  retry_after => %(retry_after)s) as outcome
"""
ROUTING_SNAPSHOT = "select api.routing_snapshot(service => %(service)s) as snapshot"

# -- the key vault (docs/vault.md): values travel as bind parameters, never as literals -------
PUT_SECRET = """
select api.put_secret(name => %(name)s, value => %(value)s, expires_at => %(expires_at)s,
  cas => %(cas)s, description => %(description)s) as secret
"""
READ_SECRET = """
select api.read_secret(name => %(name)s, label => %(label)s, version => %(version)s) as secret
"""
DELETE_SECRET = "select api.delete_secret(name => %(name)s, destroy => %(destroy)s) as secret"
RESTORE_SECRET = "select api.restore_secret(name => %(name)s) as secret"
LIST_SECRETS = 'select * from api.list_secrets("limit" => %(limit)s, after => %(after)s)'
SECRET_AUDIT = """
select * from api.secret_audit(name => %(name)s, "limit" => %(limit)s, before => %(before)s)
"""
CONFIGURE_VAULT = """
select api.configure_vault(mode => %(mode)s, max_versions => %(max_versions)s,
  recovery_days => %(recovery_days)s) as vault
"""
REWRAP_SECRETS = 'select api.rewrap_secrets("limit" => %(limit)s) as rewrap'

# -- artifacts and the Edge Functions' calls (docs/artifacts.md) ------------------------------
PUT_ARTIFACT = """
select * from api.put_artifact(name => %(name)s, data => %(data)s, media_type => %(media_type)s,
  job_id => %(job_id)s, metadata => %(metadata)s)
"""
GET_ARTIFACT = "select * from api.get_artifact(id => %(id)s)"
LIST_ARTIFACTS = """
select (l.artifact).*, l.cursor from api.list_artifacts(job_id => %(job_id)s,
  prefix => %(prefix)s, media_type => %(media_type)s, created_after => %(created_after)s,
  created_before => %(created_before)s, after => %(after)s, "limit" => %(limit)s) l
"""
DELETE_ARTIFACT = "select * from api.delete_artifact(id => %(id)s)"
SIGN_ARTIFACT = "select api.sign_artifact(id => %(id)s, expires_in => %(expires_in)s) as signed"
METRICS_OVERVIEW = "select api.metrics_overview(minutes => %(minutes)s) as overview"
FUNCTION_QUOTA = "select api.function_quota(name => %(name)s) as quota"
