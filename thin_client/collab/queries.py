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

HEARTBEAT = "select * from api.heartbeat(executor_id => %(executor_id)s, job_ids => %(job_ids)s)"

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
