-- Snapshot of the code objects under sql/, applied by its revision. Do not edit:
-- change the files under sql/ and make a new revision (`collab migrate new`).
set check_function_bodies = off;

-- >>> functions/api.accept_invitation.sql
-- The invited user joins: their pending invitation to workspace_id (api.add_member by an admin)
-- becomes a membership with the invited role, in one statement pair under the invitation's row
-- lock (a concurrent accept, decline or remove_member waits, then finds nothing). Called by
-- the invitee, who is not a member yet: the caller is the JWT's sub (collab.caller_id), never
-- collab.current_workspace. PT403 forbidden without a signed-in user; PT404
-- invitation_not_found when there is none for the caller (or it was cancelled or declined);
-- PT410 invitation_expired after its expires_at (ask for a new one). A caller who became a
-- member meanwhile keeps their role and the invitation is dropped.
create or replace function api.accept_invitation(workspace_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := collab.require_user('accepting an invitation');
  invitation collab.invitations;
  held text;
begin
  if accept_invitation.workspace_id is null then
    perform collab.raise_error('PT400', 'invalid_input', 'workspace_id is required', 'workspace_id');
  end if;
  select i.* into invitation from collab.invitations i
   where i.workspace_id = accept_invitation.workspace_id and i.user_id = uid
   for update;
  if invitation.user_id is null then
    perform collab.raise_error('PT404', 'invitation_not_found',
      format('you have no pending invitation to workspace %s', accept_invitation.workspace_id),
      'workspace_id', 'ask an admin of the workspace to invite you (api.add_member)');
  end if;
  if invitation.expires_at <= collab.clock() then
    perform collab.raise_error('PT410', 'invitation_expired',
      format('your invitation to workspace %s expired at %s', accept_invitation.workspace_id,
             invitation.expires_at),
      'workspace_id', 'ask an admin of the workspace to invite you again',
      jsonb_build_object('expires_at', invitation.expires_at));
  end if;
  delete from collab.invitations i
   where i.workspace_id = invitation.workspace_id and i.user_id = uid;
  insert into collab.members as m (workspace_id, user_id, role)
  values (invitation.workspace_id, uid, invitation.role)
  on conflict on constraint members_pkey do nothing
  returning m.role into held;
  if held is null then
    select m.role into held from collab.members m
     where m.workspace_id = invitation.workspace_id and m.user_id = uid;
  end if;
  return jsonb_build_object('workspace_id', invitation.workspace_id,
                            'name', (select w.name from collab.workspaces w where w.id = invitation.workspace_id),
                            'user_id', uid, 'role', held, 'status', 'member');
end
$$;
comment on function api.accept_invitation(uuid) is
  'Join workspace_id with the role of your pending invitation (api.add_member by one of its admins). Returns {workspace_id, name, user_id, role, status: member}. PT404 invitation_not_found when you have none there, PT410 invitation_expired after its expires_at (ask for a new one). Needs a signed-in user. A user of several workspaces then names one in the workspace_id claim of their token.';
revoke all on function api.accept_invitation(uuid) from public;
grant execute on function api.accept_invitation(uuid) to authenticated, service_role;

-- >>> functions/api.add_member.sql
-- Add a user to the caller's workspace, or change a member's role (admin and up).
-- * A service caller adds (or changes) the membership directly.
-- * An admin or owner naming an existing member changes their role directly. Nobody grants a
--   role above their own or changes the role of someone above them, and only an owner changes
--   the role of another admin (an admin may still change their own).
-- * An admin or owner naming a user who is not a member writes (or refreshes) a pending
--   invitation in collab.invitations instead (finding 3 of the security review): nobody
--   becomes a member of a workspace without accepting (api.accept_invitation).
-- * A workspace that has an owner keeps one: demoting its last owner is PT409 last_owner. The
--   owner rows are locked before they are counted, so two concurrent demotions (or a
--   demotion and a leave) of the last two owners cannot both succeed.
-- * The invitations a demoted member sent to a role above their new one lapse.
create or replace function api.add_member(user_id uuid, role text default 'member')
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
  service boolean := collab.is_service_caller();
  uid uuid := collab.caller_id();
  mine text;
  theirs text;
  invitation collab.invitations;
begin
  if add_member.user_id is null then
    perform collab.raise_error('PT400', 'invalid_input', 'user_id is required', 'user_id');
  end if;
  if collab.role_rank(add_member.role) = 0 then
    perform collab.raise_error('PT400', 'invalid_input',
      'role must be one of owner, admin, member, viewer', 'role');
  end if;
  select m.role into theirs from collab.members m
   where m.workspace_id = ws and m.user_id = add_member.user_id;
  if not service then
    select m.role into mine from collab.members m
     where m.workspace_id = ws and m.user_id = uid;
    if collab.role_rank(add_member.role) > collab.role_rank(mine)
       or not collab.may_manage(mine, theirs, add_member.user_id = uid) then
      perform collab.raise_error('PT403', 'forbidden',
        format('a %s cannot grant the %s role or change the role of %s', mine, add_member.role,
               case when theirs is null then 'a non-member'
                    when add_member.user_id = uid then 'themselves'
                    else 'a ' || theirs || ' (an admin''s role is changed by an owner)' end),
        'role', 'ask an owner', jsonb_build_object('required_role', 'owner', 'role', mine));
    end if;
    if theirs is not null then
      if add_member.role <> 'owner' then
        perform collab.require_another_owner(ws, add_member.user_id);  -- locks, then counts
      end if;
      -- The rank rules again on the row as it is when updated (a concurrent change waits or wins).
      update collab.members m set role = add_member.role
       where m.workspace_id = ws and m.user_id = add_member.user_id
         and collab.may_manage(mine, m.role, m.user_id = uid);
      if found then
        delete from collab.invitations i where i.workspace_id = ws and i.user_id = add_member.user_id;
        -- Invitations they sent to a role above their new one lapse.
        delete from collab.invitations i
         where i.workspace_id = ws and i.invited_by = add_member.user_id
           and collab.role_rank(i.role) > collab.role_rank(add_member.role);
        return jsonb_build_object('workspace_id', ws, 'user_id', add_member.user_id,
                                  'role', add_member.role, 'status', 'member');
      end if;
      if exists (select 1 from collab.members m where m.workspace_id = ws and m.user_id = add_member.user_id) then
        perform collab.raise_error('PT403', 'forbidden',
          format('a %s cannot change the role of user %s, whose role changed meanwhile', mine, add_member.user_id),
          'role', 'ask an owner', jsonb_build_object('required_role', 'owner', 'role', mine));
      end if;
      -- They left meanwhile: no longer a member, so they are invited like anyone else.
    end if;
    -- Not a member: an invitation the user accepts (or not), never a membership. At most
    -- 1,000 pending a workspace, so nobody floods other users' list_invitations.
    if not exists (select 1 from collab.invitations i where i.workspace_id = ws and i.user_id = add_member.user_id)
       and (select count(*) from (select 1 from collab.invitations i
                                   where i.workspace_id = ws and i.expires_at > collab.clock()
                                   limit 1000) x) >= 1000 then
      perform collab.raise_error('PT429', 'quota_exceeded',
        'the workspace has 1000 pending invitations, the most it may have', 'user_id',
        'wait for invitees to accept or decline, or cancel invitations with api.remove_member',
        jsonb_build_object('quota', 'invitations', 'limit', 1000));
    end if;
    insert into collab.invitations as i (workspace_id, user_id, role, invited_by, created_at, expires_at)
    values (ws, add_member.user_id, add_member.role, uid, collab.clock(), collab.clock() + interval '7 days')
    on conflict on constraint invitations_pkey do update
      set role = excluded.role, invited_by = excluded.invited_by,
          created_at = excluded.created_at, expires_at = excluded.expires_at
    returning i.* into invitation;
    return jsonb_build_object('workspace_id', ws, 'user_id', add_member.user_id,
                              'role', add_member.role, 'status', 'invited',
                              'expires_at', invitation.expires_at);
  end if;
  -- A service caller writes the membership directly.
  if add_member.role <> 'owner' then
    perform collab.require_another_owner(ws, add_member.user_id);  -- locks, then counts
  end if;
  insert into collab.members as m (workspace_id, user_id, role)
  values (ws, add_member.user_id, add_member.role)
  on conflict on constraint members_pkey do update set role = excluded.role;
  delete from collab.invitations i
   where i.workspace_id = ws
     and (i.user_id = add_member.user_id
          or (i.invited_by = add_member.user_id and collab.role_rank(i.role) > collab.role_rank(add_member.role)));
  return jsonb_build_object('workspace_id', ws, 'user_id', add_member.user_id,
                            'role', add_member.role, 'status', 'member');
end
$$;
comment on function api.add_member(uuid, text) is
  'Give user_id a role (owner, admin, member, viewer; default member) in the caller''s workspace. Needs admin; nobody grants a role above their own or changes the role of someone above them, and only an owner changes another admin''s role. An existing member''s role is changed at once (status member). Since revision 0007 a user who is not a member is only invited (status invited, with expires_at, 7 days; at most 1000 pending a workspace, PT429 quota_exceeded): they join with accept_invitation. Service callers add members directly. Demoting the last owner is PT409 last_owner; invitations a demoted member sent to a role above their new one are cancelled. Returns {workspace_id, user_id, role, status}.';
revoke all on function api.add_member(uuid, text) from public;
grant execute on function api.add_member(uuid, text) to authenticated, service_role;

-- >>> functions/api.cancel.sql
-- Cancel a job: a queued job is cancelled at once (it moves to collab.job_history); a running
-- one is flagged (`cancel_requested`) and its executor learns it at its next heartbeat.
-- Cancelling a cancelled job returns it unchanged; a succeeded or dead job is PT409
-- not_cancellable.
create or replace function api.cancel(job_id bigint)
returns api.job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  j collab.jobs;
begin
  select * into j from collab.jobs x where x.id = cancel.job_id and x.workspace_id = ws for update;
  if not found then
    select * into j from collab.job_history h where h.workspace_id = ws and h.id = cancel.job_id;
    if not found then
      perform collab.raise_error('PT404', 'job_not_found', format('job %s not found', cancel.job_id), 'job_id');
    end if;
  end if;
  if j.status = 'queued' then
    -- The move, only from queued (collab.job_history_after_insert writes the event).
    with moved as (
      delete from collab.jobs x where x.id = j.id and x.status = 'queued' returning x.*
    )
    insert into collab.job_history
    select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority, 'cancelled', 'cancelled',
           m.run_at, m.attempt, m.max_attempts, m.idempotency_key, m.executor_id, m.lease_token,
           m.lease_seconds, m.lease_expires_at, m.cancel_requested, m.progress, m.progress_message,
           m.result, m.last_error, m.created_at, m.claimed_at, collab.clock()
      from moved m
    returning * into j;
  elsif j.status = 'running' and not j.cancel_requested then
    update collab.jobs x set cancel_requested = true, last_event = 'cancel_requested'
     where x.id = j.id returning * into j;
  elsif j.status in ('succeeded', 'dead') then
    perform collab.raise_error('PT409', 'not_cancellable',
      format('job %s is %s and cannot be cancelled', j.id, j.status), 'job_id',
      case when j.status = 'dead' then 'purge it with api.purge_dead' end,
      jsonb_build_object('status', j.status));
  end if;
  return collab.job_row(j);
end
$$;
comment on function api.cancel(bigint) is
  'Cancel a job: queued -> cancelled at once; running -> flagged, its executor stops at the next heartbeat. PT409 not_cancellable for succeeded or dead jobs.';
revoke all on function api.cancel(bigint) from public;
grant execute on function api.cancel(bigint) to authenticated, service_role;

-- >>> functions/api.check_invariants.sql
-- Operators' health check (`collab doctor`): see collab.check_invariants.
create or replace function api.check_invariants()
returns table (invariant text, job_id bigint, detail jsonb)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select * from collab.check_invariants()
$$;
comment on function api.check_invariants() is
  'Every violation of Collab''s invariants (empty = healthy). Service role only; scans the tables.';
revoke all on function api.check_invariants() from public;
grant execute on function api.check_invariants() to service_role;

-- >>> functions/api.claim.sql
-- Claim up to max_jobs jobs for an executor: highest priority first, then oldest run_at,
-- skipping rows locked by other claimers, never from a paused queue, never past a queue's
-- concurrency limit. Each claimed job gets a fresh lease token and a lease. Expired leases
-- of these queues are reclaimed first, so correctness never depends on the reaper.
-- The ids of queues without a limit are picked in one statement; queues with a limit one by
-- one, serialized per queue by a row lock on its collab.queues row (only they pay for it);
-- then one UPDATE claims them all. queues holds at most 100 valid names: a row lock takes no
-- entry in the shared lock table, and the cap bounds what one call can hold (an advisory lock
-- per named queue let one tenant fill that table and fail everyone's calls with 53200;
-- finding 1 of the security review, tests/sql/540).
-- Generic plans only (plan_cache_mode): with the default, the claim statement was planned
-- again at every call (its generic plan, estimated for an unknown LIMIT, looked dearer than a
-- custom one), a third of its cost. The claimed ids are collected first and the rows then
-- updated by primary key (id = any(picked)), so the generic plan never scans collab.jobs
-- (tests/sql/532 holds it to that).
create or replace function api.claim(
  executor_id uuid,
  queues text[] default null,
  max_jobs integer default 1,
  lease_seconds integer default null
)
returns setof api.claimed_job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
as $$
declare
  ws uuid := collab.require_role('member');
  now_ timestamptz := collab.clock();
  ex collab.executors;
  wanted text[];
  open_queues text[];
  limited record;
  budget integer;
  picked bigint[] := '{}';
  got integer := 0;
begin
  ex := collab.require_executor(claim.executor_id, ws);
  perform collab.take_tokens(ws, 'claim', ex.id, 1);
  if claim.max_jobs is null or claim.max_jobs not between 1 and 1000 then
    perform collab.raise_error('PT400', 'invalid_input', 'max_jobs must be between 1 and 1000', 'max_jobs');
  end if;
  if claim.lease_seconds is not null and claim.lease_seconds not between 1 and 86400 then
    perform collab.raise_error('PT400', 'invalid_input', 'lease_seconds must be between 1 and 86400', 'lease_seconds');
  end if;
  wanted := coalesce(claim.queues, ex.queues);
  if wanted is null or cardinality(wanted) = 0 then
    perform collab.raise_error('PT400', 'invalid_input',
      'queues is required (or register the executor with its queues)', 'queues');
  end if;
  if cardinality(wanted) > 100 then
    perform collab.raise_error('PT400', 'invalid_input',
      format('queues holds %s names; at most 100 per call', cardinality(wanted)), 'queues');
  end if;
  -- The executor's registered queues were validated by register_executor: only names given
  -- in this call are checked.
  if claim.queues is not null
     and not (select bool_and(coalesce(collab.is_name(w.name), false)) from unnest(wanted) w(name)) then
    perform collab.check_name('queues', (select w.name from unnest(wanted) w(name)
                                          where not coalesce(collab.is_name(w.name), false) limit 1));
  end if;

  perform collab.expire_leases(ws, wanted);

  select array_agg(q.name order by q.name) into open_queues
    from collab.queues q
   where q.workspace_id = ws and q.name = any(wanted) and not q.paused and q.concurrency_limit is null;

  -- The ids first (skipping rows others hold), then one UPDATE of them all by primary key.
  if open_queues is not null then
    picked := array(
      select c.id
        from unnest(open_queues) qn(name)
        cross join lateral (
          select x.id, x.priority, x.run_at
            from collab.jobs x
           where x.workspace_id = ws and x.queue = qn.name
             and x.status = 'queued' and x.run_at <= now_
           order by x.priority desc, x.run_at, x.id
           limit claim.max_jobs
           for update skip locked) c
       order by c.priority desc, c.run_at, c.id
       limit claim.max_jobs);
  end if;

  for limited in
    select q.name, q.concurrency_limit
      from collab.queues q
     where q.workspace_id = ws and q.name = any(wanted) and not q.paused
       and q.concurrency_limit is not null
     order by q.name
  loop
    exit when cardinality(picked) >= claim.max_jobs;
    perform 1 from collab.queues q
     where q.workspace_id = ws and q.name = limited.name
       for no key update;
    select limited.concurrency_limit - count(*) into budget
      from collab.jobs j
     where j.workspace_id = ws and j.queue = limited.name and j.status = 'running';
    budget := least(budget, claim.max_jobs - cardinality(picked));
    continue when budget <= 0;
    picked := picked || array(
      select x.id
        from collab.jobs x
       where x.workspace_id = ws and x.queue = limited.name
         and x.status = 'queued' and x.run_at <= now_
       order by x.priority desc, x.run_at, x.id
       limit budget
       for update skip locked);
  end loop;

  if cardinality(picked) > 0 then
    return query
    update collab.jobs j set
      status = 'running',
      last_event = 'claimed',
      attempt = j.attempt + 1,
      executor_id = claim.executor_id,
      lease_token = gen_random_uuid(),
      lease_seconds = coalesce(claim.lease_seconds, q.lease_seconds),
      lease_expires_at = now_ + make_interval(secs => coalesce(claim.lease_seconds, q.lease_seconds)),
      claimed_at = now_
    from collab.queues q
    where j.id = any(picked) and q.workspace_id = ws and q.name = j.queue
    returning j.id, j.queue, j.type, j.payload, j.priority, j.attempt, j.max_attempts,
              j.lease_token, j.lease_expires_at, j.run_at, j.created_at;
    get diagnostics got = row_count;
  end if;

  -- A short claim while due jobs are still queued in this snapshot means rows were skipped
  -- because others held their locks: a claim conflict (docs/metrics.md). Only short claims pay.
  if got < claim.max_jobs and open_queues is not null then
    perform collab.metrics_signal('claim_conflict', ws, qn.name, '', 1)
       from unnest(open_queues) qn(name)
      where exists (select 1 from collab.jobs j
                     where j.workspace_id = ws and j.queue = qn.name
                       and j.status = 'queued' and j.run_at <= now_);
  end if;
end
$$;
comment on function api.claim(uuid, text[], integer, integer) is
  'Claim up to max_jobs (1-1000) jobs for executor_id from queues (at most 100 names; default: the executor''s), highest priority then oldest run_at. Each job carries a fresh lease_token that heartbeat, progress, complete and fail must present. lease_seconds (1-86400) overrides the queue''s lease.';
revoke all on function api.claim(uuid, text[], integer, integer) from public;
grant execute on function api.claim(uuid, text[], integer, integer) to authenticated, service_role;

-- >>> functions/api.complete.sql
-- Finish a job with its result. Fenced: only the current lease token of a running job
-- counts; anything else is PT409 lease_lost and changes nothing. Repeating a complete that
-- succeeded, with the same token, returns the same job and writes nothing. A result larger
-- than the workspace's max_payload_bytes (JSON text) is PT400 invalid_input naming result.
-- "Running" is tested as lease_expires_at is not null (the same thing: CHECK
-- jobs_lease_iff_running). Written as status = 'running', the generic plan may take
-- jobs_list_status_idx or a partial running index and walk every running job of the workspace
-- to find this one (tests/sql/530); this way only the primary key can serve the lookup.
-- The job moves to collab.job_history (docs/architecture.md, "The hot table and the history").
create or replace function api.complete(job_id bigint, lease_token uuid, result jsonb default null)
returns api.job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  j collab.jobs;
begin
  -- The result is capped like a payload: its JSON text may not exceed max_payload_bytes.
  if complete.result is not null and octet_length(complete.result::text)
     > (select w.max_payload_bytes from collab.workspaces w where w.id = ws) then
    perform collab.raise_error('PT400', 'invalid_input',
      format('result is larger than %s bytes (the workspace''s max_payload_bytes)',
             (select w.max_payload_bytes from collab.workspaces w where w.id = ws)),
      'result', 'store a large result elsewhere and return a reference to it; the job is still running');
  end if;
  perform collab.require_job_owner(array[complete.job_id], ws);
  -- The move: out of collab.jobs, into collab.job_history, in one statement; only from
  -- running under this token (collab.job_history_after_insert writes the succeeded event).
  with moved as (
    delete from collab.jobs x
     where x.id = complete.job_id and x.workspace_id = ws
       and x.lease_expires_at is not null and x.lease_token = complete.lease_token
    returning x.*
  )
  insert into collab.job_history
  select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority, 'succeeded', 'succeeded',
         m.run_at, m.attempt, m.max_attempts, m.idempotency_key, m.executor_id, m.lease_token,
         m.lease_seconds, null, m.cancel_requested, m.progress, m.progress_message,
         complete.result, m.last_error, m.created_at, m.claimed_at, collab.clock()
    from moved m
  returning * into j;
  if found then
    return collab.job_row(j);
  end if;
  -- A repeat: the finished job by workspace and id (every history partition's primary key).
  select * into j from collab.job_history h
   where h.workspace_id = ws and h.id = complete.job_id;
  if found and j.status = 'succeeded' and j.lease_token = complete.lease_token then
    return collab.job_row(j);
  end if;
  perform collab.lease_lost(complete.job_id, ws);
  return null;
end
$$;
comment on function api.complete(bigint, uuid, jsonb) is
  'Complete a running job with its result, presenting its current lease_token (else PT409 lease_lost). Idempotent for the same token. result: at most the workspace''s max_payload_bytes of JSON text (else PT400 invalid_input).';
revoke all on function api.complete(bigint, uuid, jsonb) from public;
grant execute on function api.complete(bigint, uuid, jsonb) to authenticated, service_role;

-- >>> functions/api.complete_batch.sql
-- Complete many jobs in one statement (the worker's hot path). items: a JSON array of
-- {"job_id": n, "lease_token": "uuid", "result": any}. Each item is fenced like
-- api.complete and reported on its own: a stale token fails only its item (lease_lost). A
-- result larger than max_payload_bytes is PT400 invalid_input naming its index (nothing done).
-- "Running" is tested as lease_expires_at is not null (the same thing: CHECK
-- jobs_lease_iff_running). Written as status = 'running', the generic plan may take
-- jobs_list_status_idx or a partial running index and walk every running job of the workspace
-- to find this one (tests/sql/530); this way only the primary key can serve the lookup.
-- Generic plans only (plan_cache_mode), as api.claim: under the default the completing UPDATE
-- and the row locks were planned again at every call (their generic plans, costed for a
-- jsonb array of unknown length, looked dearer than custom ones): 0.66 ms of planning against
-- 0.08 ms of execution for 4 items. tests/sql/534 holds the setting and the plans it gives.
create or replace function api.complete_batch(items jsonb)
returns setof api.completion
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
as $$
declare
  ws uuid := collab.require_role('member');
  max_payload integer := (select w.max_payload_bytes from collab.workspaces w where w.id = ws);
  now_ timestamptz := collab.clock();
  bad record;
  outcomes api.completion[];
  ids bigint[];
begin
  if complete_batch.items is null or jsonb_typeof(complete_batch.items) <> 'array' then
    perform collab.raise_error('PT400', 'invalid_input', 'items must be a JSON array', 'items');
  end if;
  if jsonb_array_length(complete_batch.items) > 10000 then
    perform collab.raise_error('PT400', 'invalid_input', 'at most 10000 items per call', 'items');
  end if;
  select t.ord - 1 as idx, c.field, c.message into bad
    from jsonb_array_elements(complete_batch.items) with ordinality t(e, ord)
    cross join lateral (values
      (0, 'items', jsonb_typeof(t.e) <> 'object', 'must be a JSON object'),
      (1, 'job_id', coalesce(jsonb_typeof(t.e -> 'job_id'), '') <> 'number'
                    or (t.e ->> 'job_id') !~ '^[0-9]{1,18}$', 'job_id must be a positive integer'),
      (2, 'lease_token', coalesce(jsonb_typeof(t.e -> 'lease_token'), '') <> 'string'
                         or (t.e ->> 'lease_token') !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$',
          'lease_token must be a uuid'),
      -- Capped like a payload (only items that carry a result pay for its text).
      (3, 'result', t.e -> 'result' is not null and octet_length((t.e -> 'result')::text) > max_payload,
          format('result is larger than %s bytes (the workspace''s max_payload_bytes)', max_payload))
    ) c(n, field, failed, message)
   where c.failed
   order by t.ord, c.n
   limit 1;
  if found then
    perform collab.raise_error('PT400', 'invalid_input', format('items[%s]: %s', bad.idx, bad.message),
      bad.field, 'nothing was completed', jsonb_build_object('index', bad.idx));
  end if;
  ids := array(select (e ->> 'job_id')::bigint from jsonb_array_elements(complete_batch.items) e);
  perform collab.require_job_owner(ids, ws);
  -- Lock the rows in id order first (as heartbeat does), whatever join order the update
  -- below gets: two calls over the same jobs then wait for each other, never deadlock.
  perform 1 from collab.jobs x
   where x.id = any(ids) and x.workspace_id = ws and x.lease_expires_at is not null
   order by x.id
     for update;

  with item as (
    select (t.e ->> 'job_id')::bigint as job_id, (t.e ->> 'lease_token')::uuid as lease_token,
           t.e -> 'result' as result, t.ord
      from jsonb_array_elements(complete_batch.items) with ordinality t(e, ord)
  ),
  -- The move: out of collab.jobs, into collab.job_history (collab.job_history_after_insert
  -- writes the succeeded events), only from running under the item's token.
  moved as (
    delete from collab.jobs x
     using item
     -- x.id = any(ids): the rows by primary key, whatever the planner guesses of the items.
     where x.id = any(ids) and x.id = item.job_id and x.workspace_id = ws
       and x.lease_expires_at is not null and x.lease_token = item.lease_token
    returning x.*, item.result as new_result
  ),
  done as (
    insert into collab.job_history
    select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority, 'succeeded', 'succeeded',
           m.run_at, m.attempt, m.max_attempts, m.idempotency_key, m.executor_id, m.lease_token,
           m.lease_seconds, null, m.cancel_requested, m.progress, m.progress_message,
           m.new_result, m.last_error, m.created_at, m.claimed_at, now_
      from moved m
    returning id, lease_token
  ),
  outcome as (
    select item.ord, item.job_id,
         done.id is not null as ok,
         case when done.id is not null then null
              when known.id is null then 'job_not_found'
              else 'lease_lost' end as reason
    from item
    -- By token too: an item naming the same job with a stale token is lease_lost, even when
    -- another item of the batch completed that job with the right one.
    left join done on done.id = item.job_id and done.lease_token = item.lease_token
    -- The job in the hot table as it was before this statement.
    left join collab.jobs known on known.id = any(ids) and known.id = item.job_id and known.workspace_id = ws
  )
  select array_agg(row(o.job_id, o.ok, o.reason)::api.completion order by o.ord) into outcomes
    from outcome o;

  -- Items whose job is not in the hot table (rare: a repeat, a stale token, a wrong id) are
  -- judged against the history: a job completed before this call with this token is ok
  -- again, any other finished job lease_lost. The common batch never reads the history.
  if exists (select 1 from unnest(outcomes) o where o.reason = 'job_not_found') then
    select array_agg(case when o.reason <> 'job_not_found' or h.id is null then row(o.job_id, o.ok, o.reason)::api.completion
                          when h.status = 'succeeded' and h.lease_token = i.lease_token
                            then row(o.job_id, true, null)::api.completion
                          else row(o.job_id, false, 'lease_lost')::api.completion end
                     order by i.ord)
      into outcomes
      from unnest(outcomes) with ordinality o(job_id, ok, reason, ord)
      join (select (t.e ->> 'lease_token')::uuid as lease_token, t.ord
              from jsonb_array_elements(complete_batch.items) with ordinality t(e, ord)) i on i.ord = o.ord
      left join collab.job_history h
        on o.reason = 'job_not_found' and h.workspace_id = ws and h.id = o.job_id;
  end if;

  -- Stale tokens do not abort the batch, so they can be counted (docs/metrics.md).
  if exists (select 1 from unnest(outcomes) o where o.reason = 'lease_lost') then
    perform collab.metrics_signal('fencing_rejection', ws, j.queue, j.type, count(*))
       from unnest(outcomes) o
       join (select x.id, x.queue, x.type from collab.jobs x where x.workspace_id = ws and x.id = any(ids)
             union all
             select h.id, h.queue, h.type from collab.job_history h where h.workspace_id = ws and h.id = any(ids)) j
         on j.id = o.job_id
      where o.reason = 'lease_lost'
      group by j.queue, j.type;
  end if;
  return query select * from unnest(outcomes);
end
$$;
comment on function api.complete_batch(jsonb) is
  'Complete many jobs at once. items: [{"job_id", "lease_token", "result"}]. Returns one row per item in order: ok, or reason lease_lost / job_not_found (other items still complete). A result over the workspace''s max_payload_bytes (JSON text) is PT400 invalid_input naming its index; nothing is completed.';
revoke all on function api.complete_batch(jsonb) from public;
grant execute on function api.complete_batch(jsonb) to authenticated, service_role;

-- >>> functions/api.configure_limits.sql
-- The operator's limits (service role only): without workspace_id the platform defaults
-- (collab.platform_limits), with it that workspace's overrides (0 removes an override: the
-- default applies again). A null argument keeps the current value. Lowering a payload ceiling
-- lowers the max_payload_bytes of the workspaces above it. A new stored_jobs limit is counted
-- against at once (collab.count_stored_jobs): the workspace changed, or for a platform default
-- the workspaces the reaper would count, so enqueue is refused or accepted again from this
-- call on. Returns the limits in force (of the workspace, or the defaults).
create or replace function api.configure_limits(
  workspace_id uuid default null,
  workspaces_per_user integer default null,
  queues integer default null,
  executors integer default null,
  stored_jobs bigint default null,
  payload_ceiling_bytes integer default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  low integer := case when configure_limits.workspace_id is null then 1 else 0 end;
  bad text;
begin
  if not collab.is_service_caller() then
    perform collab.raise_error('PT403', 'forbidden', 'operator limits are set by the service role only',
      null, null, jsonb_build_object('required_role', 'service_role'));
  end if;
  select v.field into bad from (values
      (1, 'workspaces_per_user', configure_limits.workspaces_per_user::bigint, 1000000::bigint),
      (2, 'queues', configure_limits.queues::bigint, 10000000::bigint),
      (3, 'executors', configure_limits.executors::bigint, 1000000::bigint),
      (4, 'stored_jobs', configure_limits.stored_jobs, 1000000000000::bigint),
      (5, 'payload_ceiling_bytes', configure_limits.payload_ceiling_bytes::bigint, 104857600::bigint)
    ) v(n, field, value, high)
   where v.value is not null
     and (v.value not between low and v.high or (v.field = 'payload_ceiling_bytes' and v.value = 1))
   order by v.n limit 1;
  if bad is not null then
    perform collab.raise_error('PT400', 'invalid_input',
      format('%s must be between %s and %s%s', bad, case when bad = 'payload_ceiling_bytes' and low = 1 then 2 else low end,
             case bad when 'workspaces_per_user' then 1000000 when 'queues' then 10000000
                      when 'executors' then 1000000 when 'stored_jobs' then 1000000000000 else 104857600 end,
             case when low = 0 then ' (0 removes the workspace''s override)' else '' end),
      bad);
  end if;

  if configure_limits.workspace_id is null then
    update collab.platform_limits p set
      workspaces_per_user = coalesce(configure_limits.workspaces_per_user, p.workspaces_per_user),
      queues_per_workspace = coalesce(configure_limits.queues, p.queues_per_workspace),
      executors_per_workspace = coalesce(configure_limits.executors, p.executors_per_workspace),
      stored_jobs_per_workspace = coalesce(configure_limits.stored_jobs, p.stored_jobs_per_workspace),
      payload_ceiling_bytes = coalesce(configure_limits.payload_ceiling_bytes, p.payload_ceiling_bytes);
    if configure_limits.payload_ceiling_bytes is not null then
      update collab.workspaces w set max_payload_bytes = configure_limits.payload_ceiling_bytes
       where w.limit_payload_bytes is null and w.max_payload_bytes > configure_limits.payload_ceiling_bytes;
    end if;
    if configure_limits.stored_jobs is not null then
      perform collab.count_stored_jobs();
    end if;
    return collab.workspace_limits(null);
  end if;

  if configure_limits.workspaces_per_user is not null then
    perform collab.raise_error('PT400', 'invalid_input',
      'workspaces_per_user is a limit per user, not per workspace: set it without workspace_id',
      'workspaces_per_user');
  end if;
  update collab.workspaces w set
    limit_queues = case when configure_limits.queues is null then w.limit_queues else nullif(configure_limits.queues, 0) end,
    limit_executors = case when configure_limits.executors is null then w.limit_executors else nullif(configure_limits.executors, 0) end,
    limit_stored_jobs = case when configure_limits.stored_jobs is null then w.limit_stored_jobs else nullif(configure_limits.stored_jobs, 0) end,
    limit_payload_bytes = case when configure_limits.payload_ceiling_bytes is null then w.limit_payload_bytes
                               else nullif(configure_limits.payload_ceiling_bytes, 0) end
   where w.id = configure_limits.workspace_id;
  if not found then
    perform collab.raise_error('PT400', 'invalid_input',
      format('no workspace %s', configure_limits.workspace_id), 'workspace_id');
  end if;
  update collab.workspaces w
     set max_payload_bytes = (collab.workspace_limits(w.id) ->> 'payload_ceiling_bytes')::integer
   where w.id = configure_limits.workspace_id
     and w.max_payload_bytes > (collab.workspace_limits(w.id) ->> 'payload_ceiling_bytes')::integer;
  perform collab.count_stored_jobs(configure_limits.workspace_id);
  return collab.workspace_limits(configure_limits.workspace_id);
end
$$;
comment on function api.configure_limits(uuid, integer, integer, integer, bigint, integer) is
  'Operator limits (service role only), which a workspace''s admins cannot raise. Without workspace_id: the platform defaults (workspaces_per_user a user may own, queues, executors, stored_jobs of any status per workspace, payload_ceiling_bytes: the most an admin may set max_payload_bytes to). With workspace_id: that workspace''s overrides (0 removes one). A null argument keeps the current value. Over a limit a call is PT429 quota_exceeded {quota, limit}. stored_jobs is enforced from counts (collab.reap, every minute with pg_cron; this call recounts the workspace it changes): a workspace can go over it by what it enqueues between two counts. Returns the limits in force.';
revoke all on function api.configure_limits(uuid, integer, integer, integer, bigint, integer) from public;
grant execute on function api.configure_limits(uuid, integer, integer, integer, bigint, integer) to service_role;

-- >>> functions/api.configure_queue.sql
-- Change a queue's settings (created on first use); a null argument keeps the setting.
-- concurrency_limit 0 removes the limit.
create or replace function api.configure_queue(
  queue text,
  concurrency_limit integer default null,
  lease_seconds integer default null,
  max_attempts integer default null,
  backoff_base_seconds double precision default null,
  backoff_max_seconds double precision default null,
  backoff_jitter double precision default null
)
returns api.queue
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
  q collab.queues;
begin
  q := collab.ensure_queue(ws, configure_queue.queue);
  if configure_queue.concurrency_limit is not null and configure_queue.concurrency_limit not between 0 and 100000 then
    perform collab.raise_error('PT400', 'invalid_input', 'concurrency_limit must be between 0 (none) and 100000', 'concurrency_limit');
  end if;
  if configure_queue.lease_seconds is not null and configure_queue.lease_seconds not between 1 and 86400 then
    perform collab.raise_error('PT400', 'invalid_input', 'lease_seconds must be between 1 and 86400', 'lease_seconds');
  end if;
  if configure_queue.max_attempts is not null and configure_queue.max_attempts not between 1 and 1000 then
    perform collab.raise_error('PT400', 'invalid_input', 'max_attempts must be between 1 and 1000', 'max_attempts');
  end if;
  if configure_queue.backoff_jitter is not null and configure_queue.backoff_jitter not between 0 and 1 then
    perform collab.raise_error('PT400', 'invalid_input', 'backoff_jitter must be between 0 and 1', 'backoff_jitter');
  end if;
  if coalesce(configure_queue.backoff_base_seconds, q.backoff_base_seconds) not between 0.001 and 604800
     or coalesce(configure_queue.backoff_max_seconds, q.backoff_max_seconds)
        not between coalesce(configure_queue.backoff_base_seconds, q.backoff_base_seconds) and 604800 then
    perform collab.raise_error('PT400', 'invalid_input',
      'backoff must satisfy 0.001 <= backoff_base_seconds <= backoff_max_seconds <= 604800', 'backoff_base_seconds');
  end if;
  update collab.queues x set
    concurrency_limit = case when configure_queue.concurrency_limit is null then x.concurrency_limit
                             else nullif(configure_queue.concurrency_limit, 0) end,
    lease_seconds = coalesce(configure_queue.lease_seconds, x.lease_seconds),
    max_attempts = coalesce(configure_queue.max_attempts, x.max_attempts),
    backoff_base_seconds = coalesce(configure_queue.backoff_base_seconds, x.backoff_base_seconds),
    backoff_max_seconds = coalesce(configure_queue.backoff_max_seconds, x.backoff_max_seconds),
    backoff_jitter = coalesce(configure_queue.backoff_jitter, x.backoff_jitter)
   where x.workspace_id = ws and x.name = configure_queue.queue
  returning * into q;
  return collab.queue_row(q);
end
$$;
comment on function api.configure_queue(text, integer, integer, integer, double precision, double precision, double precision) is
  'Set a queue''s concurrency_limit (0: none), lease_seconds, max_attempts and backoff (base, max seconds; jitter fraction). Null keeps a setting.';
revoke all on function api.configure_queue(text, integer, integer, integer, double precision, double precision, double precision) from public;
grant execute on function api.configure_queue(text, integer, integer, integer, double precision, double precision, double precision) to authenticated, service_role;

-- >>> functions/api.configure_rate_limit.sql
-- Set or remove (rate_per_second null) a rate limit of the caller's workspace (admin).
create or replace function api.configure_rate_limit(
  action text,
  scope text default 'workspace',
  rate_per_second double precision default null,
  burst double precision default null,
  shards integer default 1
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
begin
  if configure_rate_limit.action is null or configure_rate_limit.action not in ('enqueue', 'claim') then
    perform collab.raise_error('PT400', 'invalid_input', 'action must be enqueue or claim', 'action');
  end if;
  if configure_rate_limit.scope is null or configure_rate_limit.scope not in ('workspace', 'executor')
     or (configure_rate_limit.scope = 'executor' and configure_rate_limit.action <> 'claim') then
    perform collab.raise_error('PT400', 'invalid_input',
      'scope must be workspace, or executor for claim', 'scope');
  end if;
  if configure_rate_limit.rate_per_second is null then
    delete from collab.rate_limits l
     where l.workspace_id = ws and l.action = configure_rate_limit.action and l.scope = configure_rate_limit.scope;
    delete from collab.rate_buckets b
     where b.workspace_id = ws and b.action = configure_rate_limit.action;
    return null;
  end if;
  -- At least one token per 1,000 s: a subnormal rate (1e-320) made take_tokens' retry_after
  -- overflow into 22003 instead of PT429 (finding 9 of the security review).
  if configure_rate_limit.rate_per_second < 0.001 or configure_rate_limit.rate_per_second > 1e6 then
    perform collab.raise_error('PT400', 'invalid_input', 'rate_per_second must be between 0.001 and 1000000', 'rate_per_second');
  end if;
  if configure_rate_limit.burst is not null and (configure_rate_limit.burst < 1 or configure_rate_limit.burst > 1e7) then
    perform collab.raise_error('PT400', 'invalid_input', 'burst must be between 1 and 10000000', 'burst');
  end if;
  if configure_rate_limit.shards is null or configure_rate_limit.shards not between 1 and 64
     or coalesce(configure_rate_limit.burst, greatest(configure_rate_limit.rate_per_second, 1)) < configure_rate_limit.shards then
    perform collab.raise_error('PT400', 'invalid_input',
      'shards must be between 1 and 64 and at most burst (each shard holds burst/shards tokens)', 'shards');
  end if;
  insert into collab.rate_limits as l (workspace_id, action, scope, rate_per_second, burst, shards)
  values (ws, configure_rate_limit.action, configure_rate_limit.scope, configure_rate_limit.rate_per_second,
          coalesce(configure_rate_limit.burst, greatest(configure_rate_limit.rate_per_second, 1)),
          configure_rate_limit.shards)
  on conflict on constraint rate_limits_pkey do update
     set rate_per_second = excluded.rate_per_second, burst = excluded.burst, shards = excluded.shards;
  delete from collab.rate_buckets b
   where b.workspace_id = ws and b.action = configure_rate_limit.action;
  return (select to_jsonb(l) - 'workspace_id' from collab.rate_limits l
           where l.workspace_id = ws and l.action = configure_rate_limit.action and l.scope = configure_rate_limit.scope);
end
$$;
comment on function api.configure_rate_limit(text, text, double precision, double precision, integer) is
  'Token-bucket rate limit of the workspace (admin): action enqueue (one token per job) or claim (one per call); scope workspace, or executor (claim only, one bucket per executor); rate_per_second refill (0.001-1000000), burst capacity (default: the rate), shards to spread a busy workspace bucket over rows. rate_per_second null removes the limit. Over the limit: PT429 rate_limited with retry_after seconds.';
revoke all on function api.configure_rate_limit(text, text, double precision, double precision, integer) from public;
grant execute on function api.configure_rate_limit(text, text, double precision, double precision, integer) to authenticated, service_role;

-- >>> functions/api.configure_workspace.sql
-- Quotas of the caller's workspace (admin): a null argument keeps the current value.
-- max_payload_bytes may not exceed the operator's ceiling (collab.workspace_limits:
-- payload_ceiling_bytes, set by api.configure_limits): PT429 quota_exceeded beyond it.
create or replace function api.configure_workspace(max_payload_bytes integer default null, max_queued_jobs integer default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
  w collab.workspaces;
begin
  if configure_workspace.max_payload_bytes is not null
     and configure_workspace.max_payload_bytes not between 2 and 104857600 then
    perform collab.raise_error('PT400', 'invalid_input',
      'max_payload_bytes must be between 2 and 104857600 (100 MiB)', 'max_payload_bytes');
  end if;
  if configure_workspace.max_payload_bytes is not null then
    perform collab.check_limit('payload_ceiling_bytes', configure_workspace.max_payload_bytes,
                               collab.workspace_limits(ws), 'max_payload_bytes');
  end if;
  if configure_workspace.max_queued_jobs is not null
     and configure_workspace.max_queued_jobs not between 0 and 10000000 then
    perform collab.raise_error('PT400', 'invalid_input',
      'max_queued_jobs must be between 1 and 10000000 (0 removes the quota)', 'max_queued_jobs');
  end if;
  update collab.workspaces x
     set max_payload_bytes = coalesce(configure_workspace.max_payload_bytes, x.max_payload_bytes),
         max_queued_jobs = case when configure_workspace.max_queued_jobs is null then x.max_queued_jobs
                                else nullif(configure_workspace.max_queued_jobs, 0) end
   where x.id = ws
  returning x.* into w;
  return jsonb_build_object('workspace_id', w.id, 'name', w.name, 'max_payload_bytes', w.max_payload_bytes, 'max_queued_jobs', w.max_queued_jobs);
end
$$;
comment on function api.configure_workspace(integer, integer) is
  'Quotas of the caller''s workspace (admin). max_payload_bytes: largest job payload enqueue accepts (JSON text bytes, 2 B up to the operator''s payload ceiling, 100 MiB by default, else PT429 quota_exceeded; default 1 MiB); result and error of complete, complete_batch and fail are capped alike. max_queued_jobs: most jobs queued at once (enqueue beyond it is PT429 quota_exceeded; 0 removes the quota). A null argument keeps the current value. Returns the workspace''s settings.';
revoke all on function api.configure_workspace(integer, integer) from public;
grant execute on function api.configure_workspace(integer, integer) to authenticated, service_role;

-- >>> functions/api.create_workspace.sql
-- Create a workspace; a signed-in caller becomes its owner. Names are unique. A user may own
-- at most the operator's workspaces_per_user (PT429 quota_exceeded); the service role is not
-- counted.
create or replace function api.create_workspace(name text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := collab.caller_id();
  ws collab.workspaces;
begin
  if not collab.is_service_caller() and uid is null then
    perform collab.raise_error('PT403', 'forbidden',
      'creating a workspace needs a signed-in user', null, null,
      jsonb_build_object('required_role', 'authenticated'));
  end if;
  if create_workspace.name is null or length(create_workspace.name) not between 1 and 200 then
    perform collab.raise_error('PT400', 'invalid_input', 'name must be 1-200 characters', 'name');
  end if;
  -- Control characters and bidirectional overrides make a name display as another one.
  if create_workspace.name ~ E'[\\x01-\\x1f\\x7f-\\x9f\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]'
     or create_workspace.name <> btrim(create_workspace.name) then
    perform collab.raise_error('PT400', 'invalid_input',
      'name must not hold control or bidirectional-override characters, nor start or end with a space', 'name');
  end if;
  if uid is not null then
    -- The operator's workspaces_per_user limit: the workspaces the caller owns. Calls of one
    -- user are serialized (a transaction lock on the user id) so that they count in turn.
    perform pg_advisory_xact_lock(hashtextextended('collab.create_workspace:' || uid::text, 0));
    perform collab.check_limit('workspaces_per_user',
      (select count(*) + 1 from collab.members m where m.user_id = uid and m.role = 'owner'),
      collab.workspace_limits(null), 'name');
  end if;
  insert into collab.workspaces as w (name) values (create_workspace.name)
  on conflict on constraint workspaces_name_unique do nothing
  returning w.* into ws;
  if ws.id is null then
    perform collab.raise_error('PT409', 'workspace_exists',
      format('a workspace called %s already exists', quote_literal(create_workspace.name)), 'name',
      'choose another name');
  end if;
  if uid is not null then
    insert into collab.members (workspace_id, user_id, role) values (ws.id, uid, 'owner');
  end if;
  return jsonb_build_object('workspace_id', ws.id, 'name', ws.name,
                            'role', case when uid is null then null else 'owner' end);
end
$$;
comment on function api.create_workspace(text) is
  'Create a workspace called name (unique, 1-200 characters); the signed-in caller becomes its owner. Returns {workspace_id, name, role}. Name it in the workspace_id JWT claim to act in it. A user owning the operator''s workspaces_per_user limit (10 by default) gets PT429 quota_exceeded.';
revoke all on function api.create_workspace(text) from public;
grant execute on function api.create_workspace(text) to authenticated, service_role;

-- >>> functions/api.decline_invitation.sql
-- The invited user refuses: their pending invitation to workspace_id is deleted (an expired one
-- too). Called by the invitee (collab.caller_id, never collab.current_workspace): PT403
-- forbidden without a signed-in user, PT404 invitation_not_found when there is none.
create or replace function api.decline_invitation(workspace_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := collab.require_user('declining an invitation');
  invitation collab.invitations;
begin
  if decline_invitation.workspace_id is null then
    perform collab.raise_error('PT400', 'invalid_input', 'workspace_id is required', 'workspace_id');
  end if;
  delete from collab.invitations i
   where i.workspace_id = decline_invitation.workspace_id and i.user_id = uid
  returning i.* into invitation;
  if invitation.user_id is null then
    perform collab.raise_error('PT404', 'invitation_not_found',
      format('you have no pending invitation to workspace %s', decline_invitation.workspace_id),
      'workspace_id');
  end if;
  return jsonb_build_object('workspace_id', invitation.workspace_id, 'user_id', uid,
                            'role', invitation.role, 'status', 'declined');
end
$$;
comment on function api.decline_invitation(uuid) is
  'Refuse your pending invitation to workspace_id (expired ones too): it is deleted. Returns {workspace_id, user_id, role, status: declined}; PT404 invitation_not_found when you have none there. Needs a signed-in user.';
revoke all on function api.decline_invitation(uuid) from public;
grant execute on function api.decline_invitation(uuid) to authenticated, service_role;

-- >>> functions/api.enqueue.sql
-- Enqueue one job. The common call (no idempotency key, no run_at or delay, every argument
-- valid) takes a direct path: one INSERT of one row, 1.5x the calls per second of building a
-- one-element batch (docs/architecture.md). Every other call, including every invalid one,
-- goes through api.enqueue_batch, which holds the validation, the error messages and the
-- idempotency rules; the direct path's condition below only admits what that path accepts
-- (tests/sql/105 holds the two paths to the same answers). A workspace at its stored_jobs
-- limit goes through api.enqueue_batch too, which refuses it.
create or replace function api.enqueue(
  queue text,
  type text,
  payload jsonb default '{}',
  priority integer default 0,
  run_at timestamptz default null,
  max_attempts integer default null,
  idempotency_key text default null,
  delay interval default null
)
returns api.job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  now_ timestamptz;
  q collab.queues;
  new_job collab.jobs;
begin
  if enqueue.idempotency_key is not null or enqueue.run_at is not null or enqueue.delay is not null
     or enqueue.priority is null or enqueue.priority not between -1000000 and 1000000
     or enqueue.max_attempts not between 1 and 1000
     or not coalesce(collab.is_name(enqueue.queue) and collab.is_name(enqueue.type), false)
     -- One read of the workspace row: its payload cap, and the stored_jobs flag the reaper sets
     -- (collab.count_stored_jobs; api.enqueue_batch raises the PT429).
     or (select w.stored_jobs_full or octet_length(enqueue.payload::text) > w.max_payload_bytes
           from collab.workspaces w where w.id = ws) then
    -- Absent arguments are left out (jsonb_strip_nulls); the payload is added afterwards, so
    -- the nulls inside it are kept.
    return (select b from api.enqueue_batch(jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
      'queue', enqueue.queue,
      'type', enqueue.type,
      'priority', enqueue.priority,
      'run_at', enqueue.run_at,
      'delay', enqueue.delay::text,
      'max_attempts', enqueue.max_attempts,
      'idempotency_key', enqueue.idempotency_key))
      || jsonb_build_object('payload', coalesce(enqueue.payload, '{}'::jsonb)))) b);
  end if;
  perform collab.take_tokens(ws, 'enqueue', null, 1);
  perform collab.check_queued_quota(ws, 1);
  q := collab.ensure_queue(ws, enqueue.queue);
  now_ := collab.clock();
  insert into collab.jobs (workspace_id, queue, type, payload, priority, run_at, max_attempts, created_at)
  values (ws, enqueue.queue, enqueue.type, coalesce(nullif(enqueue.payload, 'null'::jsonb), '{}'::jsonb),
          enqueue.priority, now_, coalesce(enqueue.max_attempts, q.max_attempts), now_)
  returning * into new_job;
  return collab.job_row(new_job);
end
$$;
comment on function api.enqueue(text, text, jsonb, integer, timestamptz, integer, text, interval) is
  'Enqueue one job on a queue (created on first use). priority: higher first. run_at or delay: not before. max_attempts: defaults to the queue''s. idempotency_key: unique per workspace; a repeat with the same payload returns the existing job with duplicate=true, a different payload raises PT409 idempotency_conflict.';
revoke all on function api.enqueue(text, text, jsonb, integer, timestamptz, integer, text, interval) from public;
grant execute on function api.enqueue(text, text, jsonb, integer, timestamptz, integer, text, interval) to authenticated, service_role;

-- >>> functions/api.enqueue_batch.sql
-- Enqueue many jobs in one call and one INSERT: the result is in input order, one
-- `enqueued` event per new job. Every element is validated first; a bad element raises
-- PT400 naming its index and nothing is written. Idempotency as in api.enqueue, also
-- between elements of the same batch: keys live in collab.idempotency_keys, so they outlive
-- their job's move to collab.job_history. While the reaper has found the workspace at its
-- stored_jobs limit (workspaces.stored_jobs_full, collab.count_stored_jobs), PT429
-- quota_exceeded {quota: stored_jobs, limit, stored}: the flag is read with max_payload_bytes,
-- so the limit costs enqueue nothing, and a workspace can go over it by what it enqueues
-- between two reaps (one minute with pg_cron).
create or replace function api.enqueue_batch(jobs jsonb)
returns setof api.job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  max_payload integer;
  stored_full boolean;
  now_ timestamptz := collab.clock();
  bad record;
  fresh_rows collab.jobs[];
  inserted bigint[];
  ids bigint[];
  won text[] := '{}';
begin
  if enqueue_batch.jobs is null or jsonb_typeof(enqueue_batch.jobs) <> 'array' then
    perform collab.raise_error('PT400', 'invalid_input', 'jobs must be a JSON array of job objects', 'jobs');
  end if;
  if jsonb_array_length(enqueue_batch.jobs) > 10000 then
    perform collab.raise_error('PT400', 'invalid_input',
      format('jobs holds %s elements; at most 10000 per call', jsonb_array_length(enqueue_batch.jobs)), 'jobs');
  end if;
  select w.max_payload_bytes, w.stored_jobs_full into max_payload, stored_full
    from collab.workspaces w where w.id = ws;
  perform collab.take_tokens(ws, 'enqueue', null, jsonb_array_length(enqueue_batch.jobs));
  perform collab.check_queued_quota(ws, jsonb_array_length(enqueue_batch.jobs));
  if stored_full then
    select w.stored_jobs, w.stored_jobs_counted_at, coalesce(w.limit_stored_jobs, p.stored_jobs_per_workspace) as cap
      into bad
      from collab.workspaces w cross join collab.platform_limits p
     where w.id = ws;
    perform collab.raise_error('PT429', 'quota_exceeded',
      format('the workspace may store at most %s jobs (%s%s stored when counted at %s)', bad.cap,
             case when bad.stored_jobs > bad.cap then 'more than ' else '' end,
             least(bad.stored_jobs, bad.cap), bad.stored_jobs_counted_at),
      'jobs', 'purge jobs (api.purge_dead) or ask the operator to raise the stored_jobs limit; enqueues are accepted again once a reap counts fewer',
      jsonb_build_object('quota', 'stored_jobs', 'limit', bad.cap, 'stored', bad.stored_jobs));
  end if;

  -- 1. Shape and ranges, set-based, one pass: the first bad element (by index) is reported,
  -- with its first bad field (in the order of the CASE).
  select v.idx,
         case when v.field = 'keys' then (select min(k) from jsonb_object_keys(v.extra) k) else v.field end as field,
         case v.field
           when 'jobs' then 'must be a JSON object'
           when 'keys' then 'unknown key(s) ' || (select string_agg(quote_ident(k), ', ' order by k) from jsonb_object_keys(v.extra) k)
                            || ': a job has queue, type, payload, priority, run_at, delay, max_attempts, idempotency_key'
           when 'queue' then 'queue must be 1-100 characters of letters, digits, ".", "_", "-" or ":"'
           when 'type' then 'type must be 1-100 characters of letters, digits, ".", "_", "-" or ":"'
           when 'priority' then 'priority must be an integer between -1000000 and 1000000'
           when 'max_attempts' then 'max_attempts must be an integer between 1 and 1000'
           when 'idempotency_key' then 'idempotency_key must be a string of 1-255 characters'
           when 'run_at' then 'run_at must be an ISO 8601 timestamp string'
           when 'delay' then 'delay must be an interval string such as "30 seconds"'
           when 'payload' then format('payload is larger than %s bytes (the workspace''s max_payload_bytes)', max_payload)
         end as message
    into bad
    from (
      select t.ord - 1 as idx,
             case
               when jsonb_typeof(t.e) <> 'object' then 'jobs'
               -- A misspelt key ("payloadd") would otherwise make a job without what it meant.
               when t.e - '{queue,type,payload,priority,run_at,delay,max_attempts,idempotency_key}'::text[]
                    <> '{}'::jsonb then 'keys'
               when jsonb_typeof(t.e -> 'queue') is distinct from 'string'
                    or not collab.is_name(t.e ->> 'queue') then 'queue'
               when jsonb_typeof(t.e -> 'type') is distinct from 'string'
                    or not collab.is_name(t.e ->> 'type') then 'type'
               -- Nested CASEs: the casts run only on numbers (OR would not guarantee the order).
               when case when t.e -> 'priority' is null then false
                         when jsonb_typeof(t.e -> 'priority') <> 'number' then true
                         else (t.e ->> 'priority')::numeric not between -1000000 and 1000000
                              or (t.e ->> 'priority')::numeric % 1 <> 0 end then 'priority'
               when case when t.e -> 'max_attempts' is null or jsonb_typeof(t.e -> 'max_attempts') = 'null' then false
                         when jsonb_typeof(t.e -> 'max_attempts') <> 'number' then true
                         else (t.e ->> 'max_attempts')::numeric not between 1 and 1000
                              or (t.e ->> 'max_attempts')::numeric % 1 <> 0 end then 'max_attempts'
               when case when t.e -> 'idempotency_key' is null or jsonb_typeof(t.e -> 'idempotency_key') = 'null' then false
                         else jsonb_typeof(t.e -> 'idempotency_key') <> 'string'
                              or length(t.e ->> 'idempotency_key') not between 1 and 255 end then 'idempotency_key'
               when jsonb_typeof(t.e -> 'run_at') not in ('string', 'null') then 'run_at'
               when jsonb_typeof(t.e -> 'delay') not in ('string', 'null') then 'delay'
               when octet_length((t.e -> 'payload')::text) > max_payload then 'payload'
             end as field,
             case when jsonb_typeof(t.e) = 'object'
                  then t.e - '{queue,type,payload,priority,run_at,delay,max_attempts,idempotency_key}'::text[] end as extra
        from jsonb_array_elements(enqueue_batch.jobs) with ordinality t(e, ord)
    ) v
   where v.field is not null
   order by v.idx
   limit 1;
  if found then
    perform collab.raise_error('PT400', 'invalid_input',
      format('jobs[%s]: %s', bad.idx, bad.message), bad.field,
      'fix the element and send the batch again; nothing was enqueued',
      jsonb_build_object('index', bad.idx));
  end if;

  -- Times: only elements that carry run_at or delay are cast one by one, to name the bad one.
  for bad in
    select t.ord - 1 as idx, t.e -> 'run_at' as run_at, t.e -> 'delay' as delay
      from jsonb_array_elements(enqueue_batch.jobs) with ordinality t(e, ord)
     where jsonb_typeof(t.e -> 'run_at') = 'string' or jsonb_typeof(t.e -> 'delay') = 'string'
     order by t.ord
  loop
    begin
      if not isfinite((bad.run_at #>> '{}')::timestamptz)
         or (bad.run_at #>> '{}')::timestamptz > now_ + interval '10 years' then
        raise invalid_datetime_format;
      end if;
    exception when others then
      perform collab.raise_error('PT400', 'invalid_input',
        format('jobs[%s]: run_at must be an ISO 8601 timestamp at most 10 years ahead (got %s)', bad.idx, left(bad.run_at #>> '{}', 40)),
        'run_at', 'nothing was enqueued', jsonb_build_object('index', bad.idx));
    end;
    begin
      if (bad.delay #>> '{}')::interval not between interval '0' and interval '3650 days' then
        raise invalid_datetime_format;
      end if;
    exception when others then
      perform collab.raise_error('PT400', 'invalid_input',
        format('jobs[%s]: delay must be an interval between 0 and 3650 days such as "30 seconds" (got %s)', bad.idx, left(bad.delay #>> '{}', 40)),
        'delay', 'nothing was enqueued', jsonb_build_object('index', bad.idx));
    end;
  end loop;

  -- 2. Queues on first use.
  insert into collab.queues (workspace_id, name)
  select distinct ws, t.e ->> 'queue'
    from jsonb_array_elements(enqueue_batch.jobs) t(e)
   where not exists (select 1 from collab.queues q where q.workspace_id = ws and q.name = t.e ->> 'queue')
  on conflict do nothing;

  -- 3. Ids from the identity of collab.jobs, drawn in input order for every element that may
  -- make a job: one without a key, or the first of the batch with its key.
  ids := array(
    select case when x.key is null or x.key_rank = 1 then nextval('collab.jobs_id_seq'::regclass) end
      from (select t.ord, t.e ->> 'idempotency_key' as key,
                   row_number() over (partition by t.e ->> 'idempotency_key' order by t.ord) as key_rank
              from jsonb_array_elements(enqueue_batch.jobs) with ordinality t(e, ord)
             order by t.ord) x);

  -- 4. The keys, claimed before the jobs exist: a key already taken (by a committed enqueue,
  -- or by one still running, which this waits for) stays with its job. Inserted in key order,
  -- so two batches sharing keys wait for each other and never deadlock.
  if exists (select 1 from jsonb_array_elements(enqueue_batch.jobs) t(e) where t.e ->> 'idempotency_key' is not null) then
    with claimed as (
      insert into collab.idempotency_keys (workspace_id, key, job_id, created_at)
      select ws, t.e ->> 'idempotency_key', ids[t.ord::integer], now_
        from jsonb_array_elements(enqueue_batch.jobs) with ordinality t(e, ord)
       where t.e ->> 'idempotency_key' is not null and ids[t.ord::integer] is not null
       order by t.e ->> 'idempotency_key'
      on conflict do nothing
      returning key
    )
    select coalesce(array_agg(claimed.key), '{}') into won from claimed;
  end if;

  -- 5. One INSERT for the batch, in input order, with the ids drawn above. The new rows are
  -- kept: without idempotency keys they are the whole answer.
  with ins as (
    insert into collab.jobs as j (id, workspace_id, queue, type, payload, priority, run_at,
                                  max_attempts, idempotency_key, created_at)
    overriding system value
    select ids[t.ord::integer], ws, t.e ->> 'queue', t.e ->> 'type',
           coalesce(nullif(t.e -> 'payload', 'null'::jsonb), '{}'::jsonb),
           coalesce((t.e ->> 'priority')::numeric::integer, 0),
           greatest(coalesce((t.e ->> 'run_at')::timestamptz, now_)
                    + coalesce((t.e ->> 'delay')::interval, interval '0'), now_),
           coalesce((t.e ->> 'max_attempts')::numeric::integer, q.max_attempts),
           t.e ->> 'idempotency_key',
           now_
      from jsonb_array_elements(enqueue_batch.jobs) with ordinality t(e, ord)
      join collab.queues q on q.workspace_id = ws and q.name = t.e ->> 'queue'
     where ids[t.ord::integer] is not null
       and (t.e ->> 'idempotency_key' is null or t.e ->> 'idempotency_key' = any(won))
     order by t.ord
    returning j
  )
  select coalesce(array_agg(ins.j order by (ins.j).id), '{}') into fresh_rows from ins;
  if cardinality(fresh_rows) = jsonb_array_length(enqueue_batch.jobs)
     and not exists (select 1 from unnest(fresh_rows) r where r.idempotency_key is not null) then
    return query select * from unnest(array(select collab.job_row(r) from unnest(fresh_rows) r order by r.id));
    return;
  end if;
  inserted := array(select r.id from unnest(fresh_rows) r order by r.id);

  -- 6. Idempotent repeats must match what is stored: the job the key names, live or finished.
  select s.ord - 1 as idx, j.id into bad
    from jsonb_array_elements(enqueue_batch.jobs) with ordinality s(e, ord)
    join collab.idempotency_keys k on k.workspace_id = ws and k.key = s.e ->> 'idempotency_key'
    cross join lateral collab.stored_job(ws, k.job_id) j
   where s.e ->> 'idempotency_key' is not null
     and (j.queue, j.type, j.payload)
         is distinct from (s.e ->> 'queue', s.e ->> 'type', coalesce(nullif(s.e -> 'payload', 'null'::jsonb), '{}'::jsonb))
   order by s.ord
   limit 1;
  if found then
    perform collab.raise_error('PT409', 'idempotency_conflict',
      format('jobs[%s]: idempotency_key is already used by job %s with another queue, type or payload',
             bad.idx, bad.id),
      'idempotency_key', 'use a new key for a different job',
      jsonb_build_object('index', bad.idx, 'job_id', bad.id));
  end if;

  -- Idempotent repeats write no event; count them for the metrics (docs/metrics.md).
  if cardinality(inserted) < jsonb_array_length(enqueue_batch.jobs) then
    perform collab.metrics_signal('idempotent_duplicate', ws, d.queue, d.type, d.n)
       from (select s.e ->> 'queue' as queue, s.e ->> 'type' as type, count(*) as n
               from (select x.e, row_number() over (partition by x.e ->> 'idempotency_key' order by x.ord) as key_rank
                       from jsonb_array_elements(enqueue_batch.jobs) with ordinality x(e, ord)
                      where x.e ->> 'idempotency_key' is not null) s
               join collab.idempotency_keys k on k.workspace_id = ws and k.key = s.e ->> 'idempotency_key'
              where not (k.job_id = any(inserted) and s.key_rank = 1)
              group by 1, 2) d;
  end if;

  -- 7. The jobs, in input order: a new one by its id, a keyed one by its key's job.
  return query
  with spec as (
    select s.ord, s.e ->> 'idempotency_key' as key,
           row_number() over (partition by s.e ->> 'idempotency_key' order by s.ord) as key_rank
      from jsonb_array_elements(enqueue_batch.jobs) with ordinality s(e, ord)
  )
  -- job_row in the select list (not a lateral function scan, which costs a SQL-function call
  -- per row), unnested afterwards.
  select * from unnest(array(
    select collab.job_row(collab.stored_job(ws, coalesce(k.job_id, ids[spec.ord::integer])),
                          spec.key is not null and not (k.job_id = any(inserted) and spec.key_rank = 1))
      from spec
      left join collab.idempotency_keys k on spec.key is not null and k.workspace_id = ws and k.key = spec.key
     order by spec.ord));
end
$$;
comment on function api.enqueue_batch(jsonb) is
  'Enqueue many jobs in one statement. jobs: a JSON array of objects with the keys of api.enqueue (queue, type, payload, priority, run_at, delay, max_attempts, idempotency_key). Returns the jobs in input order; a bad element raises PT400 naming its index and nothing is written.';
revoke all on function api.enqueue_batch(jsonb) from public;
grant execute on function api.enqueue_batch(jsonb) to authenticated, service_role;

-- >>> functions/api.events_since.sql
-- The event stream, gap-free: events come in (xid, id) order and only from transactions
-- older than every transaction still running (below the snapshot's xmin). A transaction
-- that commits late therefore cannot slip an event behind a cursor already handed out,
-- and events of rolled-back transactions never appear. Follow `cursor` from row to row.
-- Retention (collab.purge_events) deletes a prefix of the stream: a cursor whose own event
-- is gone and that lies before the oldest event kept may have missed purged events, so it is
-- refused with PT410 cursor_expired (resync from the current state, then follow cursor null).
create or replace function api.events_since(
  cursor text default null,
  "limit" integer default 1000,
  queue text default null,
  job_id bigint default null,
  types text[] default null
)
returns setof api.event
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
  after_xid xid8 := '0';
  after_id bigint := 0;
  oldest record;
begin
  if events_since."limit" is null or events_since."limit" not between 1 and 10000 then
    perform collab.raise_error('PT400', 'invalid_input', 'limit must be between 1 and 10000', 'limit');
  end if;
  if events_since.types is not null
     and (cardinality(events_since.types) > 100
          or not events_since.types <@ enum_range(null::collab.job_event_type)::text[]) then
    perform collab.raise_error('PT400', 'invalid_input',
      'types must hold at most 100 event types (enqueued, claimed, progress, succeeded, retry_scheduled, lease_expired, lease_released, dead, cancel_requested, cancelled, requeued, executor_online, executor_offline)',
      'types');
  end if;
  if events_since.cursor is not null then
    begin
      after_xid := split_part(events_since.cursor, ':', 1)::xid8;
      after_id := split_part(events_since.cursor, ':', 2)::bigint;
    exception when others then
      perform collab.raise_error('PT400', 'invalid_input', 'cursor is not a cursor returned by events_since', 'cursor');
    end;
    -- Both lookups stay inside the caller's workspace: another tenant's events are neither
    -- an oracle (does id N exist?) nor a cursor to hand out (finding 7 of the security review).
    if after_id > 0 and not exists (select 1 from collab.job_events e
                                     where e.id = after_id and e.workspace_id = ws) then
      select e.xid, e.id into oldest from collab.job_events e
       where e.workspace_id = ws order by e.xid, e.id limit 1;
      if oldest is null or (after_xid, after_id) < (oldest.xid, oldest.id) then
        perform collab.raise_error('PT410', 'cursor_expired',
          format('cursor %s is older than the oldest retained event', events_since.cursor), 'cursor',
          'events after this cursor may have been purged: resync from the current state (api.list_jobs), then follow a fresh cursor',
          jsonb_build_object('oldest_cursor', case when oldest is null then null else oldest.xid::text || ':' || oldest.id end));
      end if;
    end if;
  end if;
  return query
  select e.id, e.job_id, e.type::text, e.queue, e.job_type, e.attempt, e.executor_id, e.data,
         e.created_at, e.xid::text || ':' || e.id
    from collab.job_events e
   where (e.xid, e.id) > (after_xid, after_id)
     and e.xid < pg_snapshot_xmin(pg_current_snapshot())
     and e.workspace_id = ws
     and (events_since.queue is null or e.queue = events_since.queue)
     and (events_since.job_id is null or e.job_id = events_since.job_id)
     and (events_since.types is null or e.type::text = any(events_since.types))
   order by e.xid, e.id
   limit events_since."limit";
end
$$;
comment on function api.events_since(text, integer, text, bigint, text[]) is
  'Events after cursor (null: from the start), in commit-safe order: never misses or repeats an event when followed cursor to cursor. Filters: queue, job_id, types.';
revoke all on function api.events_since(text, integer, text, bigint, text[]) from public;
grant execute on function api.events_since(text, integer, text, bigint, text[]) to authenticated, service_role;

-- >>> functions/api.fail.sql
-- A failed attempt. Fenced like api.complete. Retryable with attempts left: back to queued
-- after retry_in or the queue's backoff (`retry_scheduled`); otherwise dead, with the error
-- kept (`dead`). A job with a pending cancel is cancelled instead. An error larger than the
-- workspace's max_payload_bytes (JSON text) is PT400 invalid_input naming error.
-- "Running" is tested as lease_expires_at is not null (the same thing: CHECK
-- jobs_lease_iff_running). Written as status = 'running', the generic plan may take
-- jobs_list_status_idx or a partial running index and walk every running job of the workspace
-- to find this one (tests/sql/530); this way only the primary key can serve the lookup.
-- A dead or cancelled job moves to collab.job_history (docs/architecture.md).
create or replace function api.fail(
  job_id bigint,
  lease_token uuid,
  error jsonb default null,
  retryable boolean default true,
  retry_in interval default null
)
returns api.job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  now_ timestamptz := collab.clock();
  j collab.jobs;
  failure jsonb;
begin
  -- The error is capped like a payload (it is also copied into the job's events).
  if fail.error is not null and octet_length(fail.error::text)
     > (select w.max_payload_bytes from collab.workspaces w where w.id = ws) then
    perform collab.raise_error('PT400', 'invalid_input',
      format('error is larger than %s bytes (the workspace''s max_payload_bytes)',
             (select w.max_payload_bytes from collab.workspaces w where w.id = ws)),
      'error', 'report a shorter error; the job is still running');
  end if;
  perform collab.require_job_owner(array[fail.job_id], ws);
  if fail.retry_in is not null and (fail.retry_in < interval '0' or fail.retry_in > interval '30 days') then
    perform collab.raise_error('PT400', 'invalid_input', 'retry_in must be between 0 and 30 days', 'retry_in');
  end if;
  -- The job, running under this token, locked: its outcome depends on the row as it is now.
  select * into j from collab.jobs x
   where x.id = fail.job_id and x.workspace_id = ws
     and x.lease_expires_at is not null and x.lease_token = fail.lease_token
     for update;
  if not found then
    perform collab.lease_lost(fail.job_id, ws);
  end if;
  failure := jsonb_build_object(
    'reason', case when not coalesce(fail.retryable, true) then 'non_retryable'
                   when j.attempt >= j.max_attempts then 'max_attempts_exceeded'
                   else 'failed' end,
    'error', fail.error, 'attempt', j.attempt, 'executor_id', j.executor_id, 'at', now_);
  if j.cancel_requested or not coalesce(fail.retryable, true) or j.attempt >= j.max_attempts then
    -- Cancelled (a cancel was pending) or dead: the job moves to collab.job_history
    -- (collab.job_history_after_insert writes the event).
    with moved as (
      delete from collab.jobs x where x.id = j.id returning x.*
    )
    insert into collab.job_history
    select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority,
           case when m.cancel_requested then 'cancelled' else 'dead' end::collab.job_status,
           case when m.cancel_requested then 'cancelled' else 'dead' end::collab.job_event_type,
           m.run_at, m.attempt, m.max_attempts, m.idempotency_key, m.executor_id, m.lease_token,
           m.lease_seconds, null, m.cancel_requested, m.progress, m.progress_message, m.result,
           failure, m.created_at, m.claimed_at, now_
      from moved m
    returning * into j;
  else
    update collab.jobs x set
      status = 'queued', last_event = 'retry_scheduled',
      run_at = now_ + coalesce(fail.retry_in,
                 collab.backoff_delay(x.attempt, q.backoff_base_seconds, q.backoff_max_seconds, q.backoff_jitter)),
      lease_expires_at = null,
      last_error = failure
    from collab.queues q
    where x.id = j.id and q.workspace_id = x.workspace_id and q.name = x.queue
    returning x.* into j;
  end if;
  return collab.job_row(j);
end
$$;
comment on function api.fail(bigint, uuid, jsonb, boolean, interval) is
  'Report a failed attempt, presenting the current lease_token (else PT409 lease_lost). retryable=false sends the job to the dead-letter queue; retry_in overrides the backoff. error: at most the workspace''s max_payload_bytes of JSON text (else PT400 invalid_input).';
revoke all on function api.fail(bigint, uuid, jsonb, boolean, interval) from public;
grant execute on function api.fail(bigint, uuid, jsonb, boolean, interval) to authenticated, service_role;

-- >>> functions/api.get_job.sql
-- One job with its history: every event (attempts, errors, progress) in order. A live job is
-- in collab.jobs (primary key), a finished one in collab.job_history (workspace and id).
create or replace function api.get_job(job_id bigint)
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
  j collab.jobs;
begin
  select * into j from collab.jobs x where x.id = get_job.job_id and x.workspace_id = ws;
  if not found then
    select * into j from collab.job_history h where h.workspace_id = ws and h.id = get_job.job_id;
  end if;
  if not found then
    perform collab.raise_error('PT404', 'job_not_found', format('job %s not found', get_job.job_id), 'job_id');
  end if;
  return to_jsonb(collab.job_row(j)) - 'duplicate'
    || jsonb_build_object('events', coalesce((
         select jsonb_agg(jsonb_build_object(
                  'id', e.id, 'type', e.type, 'attempt', e.attempt, 'executor_id', e.executor_id,
                  'data', e.data, 'created_at', e.created_at) order by e.id)
           from collab.job_events e where e.job_id = j.id), '[]'::jsonb));
end
$$;
comment on function api.get_job(bigint) is
  'One job with its last error and its history (events: claims, retries, errors, progress), or PT404 job_not_found.';
revoke all on function api.get_job(bigint) from public;
grant execute on function api.get_job(bigint) to authenticated, service_role;

-- >>> functions/api.get_limits.sql
-- The limits in force in the caller's workspace (viewer) and what it uses of them: the
-- operator's (queues, executors, stored_jobs, payload_ceiling_bytes, workspaces_per_user) and
-- its admins' quotas (max_payload_bytes, max_queued_jobs). usage.stored_jobs is the reaper's
-- last count (collab.count_stored_jobs, at stored_jobs_counted_at; null before the first),
-- counted up to the limit + 1: it does not count the jobs table on a read.
create or replace function api.get_limits()
returns jsonb
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select collab.workspace_limits(ws.id) || jsonb_build_object('usage', jsonb_build_object(
           'queues', (select count(*) from collab.queues q where q.workspace_id = ws.id),
           'executors', (select count(*) from collab.executors e where e.workspace_id = ws.id),
           'stored_jobs', (select case when w.stored_jobs_counted_at is not null then w.stored_jobs end
                             from collab.workspaces w where w.id = ws.id),
           'stored_jobs_counted_at', (select w.stored_jobs_counted_at from collab.workspaces w where w.id = ws.id)))
    from (select collab.require_role('viewer') as id) ws
$$;
comment on function api.get_limits() is
  'Limits of the caller''s workspace and its usage: {workspace_id, workspaces_per_user, queues, executors, stored_jobs, payload_ceiling_bytes (operator limits, api.configure_limits), max_payload_bytes, max_queued_jobs (admin quotas, api.configure_workspace), usage: {queues, executors, stored_jobs, stored_jobs_counted_at}}; usage.stored_jobs is the reaper''s last count (at stored_jobs_counted_at, up to the limit + 1; null before the first).';
revoke all on function api.get_limits() from public;
grant execute on function api.get_limits() to authenticated, service_role;

-- >>> functions/api.heartbeat.sql
-- The executor is alive: record its presence, extend the lease of every job it holds, and
-- tell it which jobs to stop: cancelled (a cancel was asked; the job is now cancelled) and
-- lost (of the job_ids it believes it holds, those it no longer holds). An executor that was
-- marked offline is online again and gets an `executor_online` event.
create or replace function api.heartbeat(executor_id uuid, job_ids bigint[] default null)
returns api.heartbeat_result
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  now_ timestamptz := collab.clock();
  ex collab.executors;
  cancelled_ids bigint[];
  lost_ids bigint[];
  extended integer;
  was_online boolean;
  held bigint[];
begin
  if cardinality(heartbeat.job_ids) > 10000 then
    perform collab.raise_error('PT400', 'invalid_input',
      format('job_ids holds %s ids; at most 10000 per call', cardinality(heartbeat.job_ids)), 'job_ids');
  end if;
  ex := collab.require_executor(heartbeat.executor_id, ws);
  -- The old presence comes from a locked read of the current row (not ex, read unlocked).
  update collab.executors e set last_seen_at = now_, online = true
    from (select o.id, o.online from collab.executors o where o.id = ex.id for update) old
   where e.id = old.id
  returning old.online into was_online;
  if not was_online then
    select * into ex from collab.executors e where e.id = ex.id;
    perform collab.record_presence(ex, 'executor_online');
  end if;

  -- Lock the executor's running jobs in id order first, as complete_batch does, and touch
  -- only those afterwards: in index (heap) order a heartbeat and the same worker's
  -- complete_batch could each hold a row the other waits for, and so could a later statement
  -- that met a job claimed meanwhile with a lower id (both deadlocks seen in the soak;
  -- tests/py/integration/test_lock_order.py). A job claimed meanwhile has a fresh lease; the
  -- next heartbeat extends it. "Running" is lease_expires_at is not null, by primary key.
  held := array(
    select x.id from collab.jobs x
     where x.executor_id = ex.id and x.status = 'running'
     order by x.id
       for update);

  -- A pending cancel takes effect: the job moves to collab.job_history, cancelled.
  with moved as (
    delete from collab.jobs j
     where j.id = any(held) and j.lease_expires_at is not null and j.cancel_requested
    returning j.*
  ),
  stopped as (
    insert into collab.job_history
    select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority, 'cancelled', 'cancelled',
           m.run_at, m.attempt, m.max_attempts, m.idempotency_key, m.executor_id, m.lease_token,
           m.lease_seconds, null, m.cancel_requested, m.progress, m.progress_message, m.result,
           m.last_error, m.created_at, m.claimed_at, now_
      from moved m
    returning id
  )
  select coalesce(array_agg(stopped.id order by stopped.id), '{}') into cancelled_ids from stopped;

  update collab.jobs j set lease_expires_at = now_ + make_interval(secs => j.lease_seconds)
   where j.id = any(held) and j.lease_expires_at is not null;
  get diagnostics extended = row_count;

  select coalesce(array_agg(h.id order by h.id), '{}') into lost_ids
    from unnest(coalesce(heartbeat.job_ids, '{}')) h(id)
   where not (h.id = any(cancelled_ids))
     and not exists (select 1 from collab.jobs j
                      where j.id = h.id and j.executor_id = ex.id and j.status = 'running');

  return row(ex.id, cancelled_ids, lost_ids, extended, ex.heartbeat_seconds)::api.heartbeat_result;
end
$$;
comment on function api.heartbeat(uuid, bigint[]) is
  'Executor presence (call every heartbeat_seconds): extends the leases it holds (an offline executor comes back online: executor_online); returns the jobs it must stop: cancelled, and lost (of job_ids, at most 10000, those whose lease it no longer holds).';
revoke all on function api.heartbeat(uuid, bigint[]) from public;
grant execute on function api.heartbeat(uuid, bigint[]) to authenticated, service_role;

-- >>> functions/api.leave_workspace.sql
-- The caller leaves the workspace they act in (collab.current_workspace: the workspace_id
-- claim, or their only one). The last owner cannot leave (PT409 last_owner): the owner rows
-- are locked before they are counted (collab.require_another_owner), so of two owners leaving
-- at once one stays. Service callers are members of nothing: PT403 forbidden.
create or replace function api.leave_workspace()
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
  uid uuid := collab.caller_id();
  held text;
begin
  if collab.is_service_caller() then
    perform collab.raise_error('PT403', 'forbidden',
      'the service role is a member of no workspace and cannot leave one', null,
      'remove a member with api.remove_member', jsonb_build_object('required_role', 'authenticated'));
  end if;
  perform collab.require_another_owner(ws, uid);
  delete from collab.members m
   where m.workspace_id = ws and m.user_id = uid
  returning m.role into held;
  -- The invitations they sent lapse with their membership.
  delete from collab.invitations i where i.workspace_id = ws and i.invited_by = uid;
  return jsonb_build_object('workspace_id', ws, 'user_id', uid, 'role', held, 'status', 'left');
end
$$;
comment on function api.leave_workspace() is
  'Leave the workspace you act in (the workspace_id claim, or your only one). Returns {workspace_id, user_id, role (the role you had), status: left}. PT409 last_owner when you are its only owner: make another member an owner first. The invitations you sent there are cancelled. Your executors there can no longer claim; their running jobs return to the queue when their leases expire.';
revoke all on function api.leave_workspace() from public;
grant execute on function api.leave_workspace() to authenticated, service_role;

-- >>> functions/api.list_executors.sql
-- Presence of the caller's executors, computed from collab.clock(): `online` while heard from
-- within one heartbeat interval, `stale` when silent for more than one, `offline` when
-- silent for more than three or marked offline by collab.reap (which releases its jobs).
create or replace function api.list_executors()
returns table (
  id uuid,
  name text,
  queues text[],
  heartbeat_seconds integer,
  status text,
  last_seen_at timestamptz,
  silent_seconds double precision,
  running_jobs integer,
  created_at timestamptz
)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select collab.require_role('viewer');
  select e.id, e.name, e.queues, e.heartbeat_seconds,
         case when not e.online
                or e.last_seen_at < collab.clock() - make_interval(secs => 3 * e.heartbeat_seconds) then 'offline'
              when e.last_seen_at < collab.clock() - make_interval(secs => e.heartbeat_seconds) then 'stale'
              else 'online' end,
         e.last_seen_at,
         greatest(extract(epoch from collab.clock() - e.last_seen_at)::double precision, 0),
         (select count(*)::integer from collab.jobs j where j.executor_id = e.id and j.status = 'running'),
         e.created_at
    from collab.executors e
   where e.workspace_id = collab.current_workspace()
   order by e.name
$$;
comment on function api.list_executors() is
  'Executors of the caller''s workspace with their presence: online (heard from within heartbeat_seconds), stale (silent longer), offline (silent for 3 intervals or marked offline); running_jobs: leases held.';
revoke all on function api.list_executors() from public;
grant execute on function api.list_executors() to authenticated, service_role;

-- >>> functions/api.list_invitations.sql
-- The caller's own pending invitations (not expired), newest first: the workspace, its name,
-- the role offered, when it was sent and until when it can be accepted. Read by the invitee,
-- who may belong to no workspace yet: the caller is the JWT's sub (collab.caller_id), never
-- collab.current_workspace. PT403 forbidden without a signed-in user.
create or replace function api.list_invitations()
returns table (
  workspace_id uuid,
  name text,
  role text,
  invited_at timestamptz,
  expires_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  uid uuid := collab.require_user('listing invitations');
begin
  return query
    select i.workspace_id, w.name, i.role, i.created_at, i.expires_at
      from collab.invitations i
      join collab.workspaces w on w.id = i.workspace_id
     where i.user_id = uid and i.expires_at > collab.clock()
     order by i.created_at desc, i.workspace_id;
end
$$;
comment on function api.list_invitations() is
  'Your pending invitations (not expired), newest first: {workspace_id, name, role, invited_at, expires_at}. Accept one with accept_invitation, refuse it with decline_invitation. Works for a user who belongs to no workspace yet; needs a signed-in user.';
revoke all on function api.list_invitations() from public;
grant execute on function api.list_invitations() to authenticated, service_role;

-- >>> functions/api.list_jobs.sql
-- Jobs of the workspace, newest first, filtered, with keyset pagination: pass the cursor
-- of the last row seen (`after`, opaque) to get the next page. The order (created_at, id)
-- is stable; only the given filters are applied.
create or replace function api.list_jobs(
  status text default null,
  type text default null,
  queue text default null,
  executor_id uuid default null,
  created_after timestamptz default null,
  created_before timestamptz default null,
  after text default null,
  "limit" integer default 100
)
returns table (job api.job, cursor text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
  after_at timestamptz;
  after_id bigint;
  decoded text;
  sql text;
begin
  if list_jobs."limit" is null or list_jobs."limit" not between 1 and 1000 then
    perform collab.raise_error('PT400', 'invalid_input', 'limit must be between 1 and 1000', 'limit');
  end if;
  if list_jobs.status is not null
     and list_jobs.status not in ('queued', 'running', 'succeeded', 'cancelled', 'dead') then
    perform collab.raise_error('PT400', 'invalid_input',
      'status must be one of queued, running, succeeded, cancelled, dead', 'status');
  end if;
  if list_jobs.after is not null then
    begin
      decoded := convert_from(decode(translate(list_jobs.after, '-_', '+/'), 'base64'), 'UTF8');
      after_at := split_part(decoded, '|', 1)::timestamptz;
      after_id := split_part(decoded, '|', 2)::bigint;
    exception when others then
      perform collab.raise_error('PT400', 'invalid_input', 'after is not a cursor returned by list_jobs', 'after');
    end;
  end if;
  sql := collab.list_jobs_query(list_jobs.status is not null, list_jobs.type is not null,
    list_jobs.queue is not null, list_jobs.executor_id is not null, list_jobs.created_after is not null,
    list_jobs.created_before is not null, after_at is not null);
  return query execute sql using ws, list_jobs.status, list_jobs.type, list_jobs.queue,
    list_jobs.executor_id, list_jobs.created_after, list_jobs.created_before, after_at, after_id,
    list_jobs."limit";
end
$$;
comment on function api.list_jobs(text, text, text, uuid, timestamptz, timestamptz, text, integer) is
  'List jobs newest first with optional filters (status, type, queue, executor_id, created_after, created_before). Pagination: pass the cursor of the last row as after. limit: 1-1000.';
revoke all on function api.list_jobs(text, text, text, uuid, timestamptz, timestamptz, text, integer) from public;
grant execute on function api.list_jobs(text, text, text, uuid, timestamptz, timestamptz, text, integer) to authenticated, service_role;

-- >>> functions/api.list_queues.sql
-- The workspace's queues with their settings and how many jobs are in each state, by name,
-- one page at a time: at most `limit` (1-1000, default 100) queues named after `after` (the
-- last name of the previous page; null: from the first). Live jobs are counted in
-- collab.jobs, finished ones in collab.job_history.
create or replace function api.list_queues("limit" integer default 100, after text default null)
returns table (queue api.queue, queued bigint, running bigint, succeeded bigint, cancelled bigint, dead bigint)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select collab.require_role('viewer');
  select collab.raise_error('PT400', 'invalid_input', 'limit must be between 1 and 1000', 'limit')
   where list_queues."limit" is null or list_queues."limit" not between 1 and 1000;
  select collab.queue_row(q),
         coalesce(c.queued, 0), coalesce(c.running, 0), coalesce(c.succeeded, 0),
         coalesce(c.cancelled, 0), coalesce(c.dead, 0)
    from (select x.* from collab.queues x
           where x.workspace_id = collab.current_workspace()
             and (list_queues.after is null or x.name > list_queues.after)
           order by x.name
           limit list_queues."limit") q
    left join lateral (
      select count(*) filter (where j.status = 'queued') as queued,
             count(*) filter (where j.status = 'running') as running,
             count(*) filter (where j.status = 'succeeded') as succeeded,
             count(*) filter (where j.status = 'cancelled') as cancelled,
             count(*) filter (where j.status = 'dead') as dead
        from (select x.status from collab.jobs x
               where x.workspace_id = q.workspace_id and x.queue = q.name
              union all
              select h.status from collab.job_history h
               where h.workspace_id = q.workspace_id and h.queue = q.name) j) c on true
   order by q.name
$$;
comment on function api.list_queues(integer, text) is
  'Queues of the workspace with their settings and the number of jobs per state, by name: at most limit (1-1000, default 100) queues after the name `after` (the last one of the previous page).';
revoke all on function api.list_queues(integer, text) from public;
grant execute on function api.list_queues(integer, text) to authenticated, service_role;

-- >>> functions/api.may_receive.sql
-- Whether the caller may receive a Supabase Realtime topic of Collab: `workspace:<id>:events`
-- of a workspace they are a member of (any role; the service role: any workspace). The
-- realtime.messages policy that collab.enable_realtime_broadcast ships calls it, so a private
-- channel carries a workspace's events to its members only.
create or replace function api.may_receive(topic text)
returns boolean
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid;
begin
  if may_receive.topic is null
     or may_receive.topic !~ '^workspace:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:events$' then
    return false;
  end if;
  ws := split_part(may_receive.topic, ':', 2)::uuid;
  if collab.is_service_caller() then
    return exists (select 1 from collab.workspaces w where w.id = ws);
  end if;
  return exists (select 1 from collab.members m where m.workspace_id = ws and m.user_id = collab.caller_id());
end
$$;
comment on function api.may_receive(text) is
  'True when the caller may receive the Realtime topic: workspace:<workspace_id>:events of a workspace they belong to. Used by the realtime.messages policy.';
revoke all on function api.may_receive(text) from public;
grant execute on function api.may_receive(text) to authenticated, service_role;

-- >>> functions/api.metrics_prometheus.sql
-- The caller's workspace metrics in the Prometheus text exposition format (version 0.0.4),
-- all `collab_` prefixed: counters since the first event (`collab_jobs_<counter>_total`
-- {queue, type}), gauges now, and the three phase latencies as histograms
-- (`_bucket{le=…}`, `_sum`, `_count`, in seconds). The same numbers as
-- api.metrics_summary(since => 'all'), so read-only and bounded as it is (at most 1,000
-- queue/type series and 1,000 queues). Served at /metrics by `collab metrics serve`.
create or replace function api.metrics_prometheus()
returns text
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  s jsonb := api.metrics_summary('all');
  out text[] := '{}';
  c record;
  h record;
begin
  for c in
    select * from (values
      ('enqueued', 'Jobs enqueued (idempotent duplicates excluded).'),
      ('claims', 'Attempts started: jobs handed to an executor by a claim.'),
      ('claim_conflicts', 'Claim calls that came back short while due jobs were locked by other claimers.'),
      ('lease_expirations', 'Attempts ended because their lease expired.'),
      ('lease_releases', 'Attempts ended because their executor went offline.'),
      ('retries', 'Failed attempts reported by the executor and scheduled again.'),
      ('failed', 'Attempts that ended without success or cancel (retried, expired, released or dead).'),
      ('dead', 'Jobs that entered the dead-letter queue.'),
      ('completed', 'Jobs that succeeded.'),
      ('cancelled', 'Jobs cancelled.'),
      ('requeued', 'Jobs requeued from the dead-letter queue.'),
      ('idempotent_duplicates', 'Enqueues that returned an existing job for their idempotency key.'),
      ('fencing_rejections', 'Executor calls rejected for a stale lease token (lease_lost).')
    ) v(name, help)
  loop
    out := out || format('# HELP collab_jobs_%s_total %s', c.name, c.help)
               || format('# TYPE collab_jobs_%s_total counter', c.name);
    out := out || coalesce((
      select array_agg(format('collab_jobs_%s_total{queue="%s",type="%s"} %s', c.name,
                              collab.metrics_label(e ->> 'queue'), collab.metrics_label(e ->> 'type'),
                              e -> 'counters' ->> c.name) order by e ->> 'queue', e ->> 'type')
        from jsonb_array_elements(s -> 'by_queue_type') e), '{}');
  end loop;

  for h in
    select * from (values
      ('queue_wait', 'Queue wait: run_at to claim, per attempt.'),
      ('run_time', 'Run time: claim to the end of the attempt (succeeded, retry_scheduled or dead).'),
      ('end_to_end', 'End to end: enqueue to succeeded or dead.')
    ) v(name, help)
  loop
    out := out || format('# HELP collab_job_%s_seconds %s', h.name, h.help)
               || format('# TYPE collab_job_%s_seconds histogram', h.name);
    out := out || coalesce((
      select array_agg(line order by q, t, k)
        from (
          select e ->> 'queue' as q, e ->> 'type' as t, b.ord as k,
                 format('collab_job_%s_seconds_bucket{queue="%s",type="%s",le="%s"} %s', h.name,
                        collab.metrics_label(e ->> 'queue'), collab.metrics_label(e ->> 'type'),
                        b.bucket ->> 0, b.bucket ->> 1) as line
            from jsonb_array_elements(s -> 'by_queue_type') e
           cross join lateral jsonb_array_elements(e -> 'latency' -> h.name -> 'buckets') with ordinality b(bucket, ord)
          union all
          select e ->> 'queue', e ->> 'type', 1000,
                 format('collab_job_%s_seconds_sum{queue="%s",type="%s"} %s', h.name,
                        collab.metrics_label(e ->> 'queue'), collab.metrics_label(e ->> 'type'),
                        e -> 'latency' -> h.name ->> 'sum_seconds')
            from jsonb_array_elements(s -> 'by_queue_type') e
          union all
          select e ->> 'queue', e ->> 'type', 1001,
                 format('collab_job_%s_seconds_count{queue="%s",type="%s"} %s', h.name,
                        collab.metrics_label(e ->> 'queue'), collab.metrics_label(e ->> 'type'),
                        e -> 'latency' -> h.name ->> 'count')
            from jsonb_array_elements(s -> 'by_queue_type') e) x), '{}');
  end loop;

  out := out || '# HELP collab_jobs Jobs per queue and state, now.'::text || '# TYPE collab_jobs gauge'::text;
  out := out || coalesce((
    select array_agg(format('collab_jobs{queue="%s",state="%s"} %s', collab.metrics_label(q.key), st, q.value ->> st)
                     order by q.key, st)
      from jsonb_each(s -> 'gauges' -> 'queues') q
     cross join unnest(array['queued', 'running', 'succeeded', 'cancelled', 'dead']) st), '{}');
  out := out || '# HELP collab_queue_oldest_queued_age_seconds Age of the oldest due queued job (now - run_at), 0 when none.'::text
             || '# TYPE collab_queue_oldest_queued_age_seconds gauge'::text;
  out := out || coalesce((
    select array_agg(format('collab_queue_oldest_queued_age_seconds{queue="%s"} %s', collab.metrics_label(q.key),
                            q.value ->> 'oldest_queued_age_seconds') order by q.key)
      from jsonb_each(s -> 'gauges' -> 'queues') q), '{}');
  out := out || '# HELP collab_executors Executors by presence: online, stale (missed heartbeats), offline.'::text
             || '# TYPE collab_executors gauge'::text;
  out := out || coalesce((
    select array_agg(format('collab_executors{state="%s"} %s', g2.key, g2.value) order by g2.key)
      from jsonb_each_text(s -> 'gauges' -> 'executors') g2), '{}');
  out := out || '# HELP collab_dlq_size Jobs in the dead-letter queue, now.'::text
             || '# TYPE collab_dlq_size gauge'::text
             || format('collab_dlq_size %s', s -> 'gauges' ->> 'dlq_size');
  return array_to_string(out, E'\n') || E'\n';
end
$$;
comment on function api.metrics_prometheus() is
  'Metrics of the caller''s workspace in the Prometheus text format (collab_ prefix; counters _total, histograms _bucket{le}/_sum/_count in seconds, gauges now). Same numbers as api.metrics_summary(since => ''all'').';
revoke all on function api.metrics_prometheus() from public;
grant execute on function api.metrics_prometheus() to authenticated, service_role;

-- >>> functions/api.metrics_summary.sql
-- What the queue is doing, as one JSON document (docs/metrics.md defines every field):
-- counters and phase latencies (p50/p95/p99) per queue and job type over the window
-- `since` (an interval such as '15m', '24 hours', a timestamp, or 'all'; the window starts at the
-- beginning of that minute), and gauges now: jobs per state per queue, oldest due queued
-- job age, executors online/stale/offline, DLQ size. It only reads (stable): the rollup
-- runs from the reaper (collab.reap, pg_cron), and everything above its horizon is read live,
-- so a viewer's call takes no transaction id and cannot hold back anyone's events_since.
-- Bounded output: at most 1,000 queue/type series (by_queue_type) and 1,000 queues (gauges),
-- the first by name; `truncated` says whether any were left out (totals and dlq_size still
-- count everything).
create or replace function api.metrics_summary(since text default '15 minutes', queue text default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
set jit = off  -- small, frequent queries: compiling them costs more than it saves
as $$
declare
  ws uuid := collab.require_role('viewer');
  series_cap constant integer := 1000;
  now_ timestamptz := collab.clock();
  truncated boolean;
  truncated_queues boolean;
  dlq_size bigint;
  start_ timestamptz;
  counters jsonb;
  queues jsonb;
  executors jsonb;
begin
  if metrics_summary.since is null or btrim(metrics_summary.since) = '' then
    perform collab.raise_error('PT400', 'invalid_input', 'since is required (an interval or a timestamp)', 'since');
  end if;
  if lower(btrim(metrics_summary.since)) = 'all' then
    start_ := '-infinity';
  else
  begin
    start_ := now_ - metrics_summary.since::interval;
  exception when others then
    begin
      start_ := metrics_summary.since::timestamptz;
    exception when others then
      perform collab.raise_error('PT400', 'invalid_input',
        format('since must be an interval (15m, 24 hours) or a timestamp, not %L', metrics_summary.since), 'since');
    end;
  end;
  end if;
  start_ := date_trunc('minute', start_);

  counters := collab.metrics_window(ws, start_, metrics_summary.queue);
  truncated := jsonb_array_length(counters -> 'by_queue_type') > series_cap;
  if truncated then
    counters := jsonb_set(counters, '{by_queue_type}', (
      select jsonb_agg(e.value order by e.ord)
        from jsonb_array_elements(counters -> 'by_queue_type') with ordinality e(value, ord)
       where e.ord <= series_cap));
  end if;

  -- One grouped pass over the workspace's jobs, live and finished (no join: the aggregate runs
  -- on each scan; the two never hold the same state),
  -- and the oldest due queued job from the queued rows only (partial claim index).
  with counts as (
    select j.queue, j.status, count(*) as n
      from collab.jobs j
     where j.workspace_id = ws and (metrics_summary.queue is null or j.queue = metrics_summary.queue)
     group by j.queue, j.status
    union all
    select h.queue, h.status, count(*) as n
      from collab.job_history h
     where h.workspace_id = ws and (metrics_summary.queue is null or h.queue = metrics_summary.queue)
     group by h.queue, h.status
  ),
  oldest as (
    select j.queue, min(j.run_at) as run_at
      from collab.jobs j
     where j.workspace_id = ws and j.status = 'queued' and j.run_at <= now_
       and (metrics_summary.queue is null or j.queue = metrics_summary.queue)
     group by j.queue
  )
  select coalesce(jsonb_object_agg(q.name, jsonb_build_object(
           'queued', coalesce((select c.n from counts c where c.queue = q.name and c.status = 'queued'), 0),
           'running', coalesce((select c.n from counts c where c.queue = q.name and c.status = 'running'), 0),
           'succeeded', coalesce((select c.n from counts c where c.queue = q.name and c.status = 'succeeded'), 0),
           'cancelled', coalesce((select c.n from counts c where c.queue = q.name and c.status = 'cancelled'), 0),
           'dead', coalesce((select c.n from counts c where c.queue = q.name and c.status = 'dead'), 0),
           'oldest_queued_age_seconds',
             coalesce((select extract(epoch from now_ - o.run_at) from oldest o where o.queue = q.name), 0),
           'paused', q.paused) order by q.name) filter (where q.rank <= series_cap), '{}'::jsonb),
         coalesce(max(q.rank) > series_cap, false),
         (select count(*) from collab.job_history j
           where j.workspace_id = ws and j.status = 'dead'
             and (metrics_summary.queue is null or j.queue = metrics_summary.queue))
    into queues, truncated_queues, dlq_size
    from (select x.name, x.paused, row_number() over (order by x.name) as rank
            from collab.queues x
           where x.workspace_id = ws and (metrics_summary.queue is null or x.name = metrics_summary.queue)
           order by x.name
           limit series_cap + 1) q;

  select jsonb_build_object(
           'online', count(*) filter (where e.online and e.last_seen_at >= now_ - make_interval(secs => 2 * e.heartbeat_seconds)),
           'stale', count(*) filter (where e.online and e.last_seen_at < now_ - make_interval(secs => 2 * e.heartbeat_seconds)),
           'offline', count(*) filter (where not e.online))
    into executors
    from collab.executors e
   where e.workspace_id = ws;

  return jsonb_build_object(
    'since', start_,
    'until', now_,
    'queue', metrics_summary.queue,
    'truncated', truncated or truncated_queues,
    'totals', counters -> 'totals',
    'by_queue_type', counters -> 'by_queue_type',
    'gauges', jsonb_build_object(
      'queues', queues,
      'executors', executors,
      'dlq_size', dlq_size));
end
$$;
comment on function api.metrics_summary(text, text) is
  'Metrics of the caller''s workspace as JSON: counters and phase latencies (p50/p95/p99, seconds) per queue and job type since `since` (interval like 15m or 24 hours, or a timestamp), and gauges now (jobs per state, oldest queued age, executors, DLQ size). queue: only that queue. At most 1000 queue/type series and 1000 queues (first by name); truncated: true when some were left out. Read-only: rollups are made by the reaper. Definitions: docs/metrics.md.';
revoke all on function api.metrics_summary(text, text) from public;
grant execute on function api.metrics_summary(text, text) to authenticated, service_role;

-- >>> functions/api.pause_queue.sql
-- Pause a queue: claims take nothing from it until it is resumed. Running jobs go on.
create or replace function api.pause_queue(queue text)
returns api.queue
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
  q collab.queues;
begin
  perform collab.ensure_queue(ws, pause_queue.queue);
  update collab.queues x set paused = true
   where x.workspace_id = ws and x.name = pause_queue.queue
  returning * into q;
  return collab.queue_row(q);
end
$$;
comment on function api.pause_queue(text) is
  'Pause a queue: claims take nothing from it until it is resumed. Running jobs go on.';
revoke all on function api.pause_queue(text) from public;
grant execute on function api.pause_queue(text) to authenticated, service_role;

-- >>> functions/api.progress.sql
-- Progress of a running job (fenced like api.complete); writes a `progress` event.
-- "Running" is tested as lease_expires_at is not null (the same thing: CHECK
-- jobs_lease_iff_running). Written as status = 'running', the generic plan may take
-- jobs_list_status_idx or a partial running index and walk every running job of the workspace
-- to find this one (tests/sql/530); this way only the primary key can serve the lookup.
create or replace function api.progress(
  job_id bigint,
  lease_token uuid,
  progress numeric default null,
  message text default null
)
returns api.job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  j collab.jobs;
begin
  perform collab.require_job_owner(array[progress.job_id], ws);
  if progress.progress is not null and progress.progress not between 0 and 100 then
    perform collab.raise_error('PT400', 'invalid_input', 'progress must be between 0 and 100', 'progress');
  end if;
  if length(progress.message) > 2000 then
    perform collab.raise_error('PT400', 'invalid_input', 'message must be at most 2000 characters', 'message');
  end if;
  update collab.jobs x set
    progress = progress.progress, progress_message = progress.message, last_event = 'progress'
   where x.id = progress.job_id and x.workspace_id = ws
     and x.lease_expires_at is not null and x.lease_token = progress.lease_token
  returning * into j;
  if not found then
    perform collab.lease_lost(progress.job_id, ws);
  end if;
  return collab.job_row(j);
end
$$;
comment on function api.progress(bigint, uuid, numeric, text) is
  'Report progress (0-100) and a message for a running job, presenting its current lease_token (else PT409 lease_lost).';
revoke all on function api.progress(bigint, uuid, numeric, text) from public;
grant execute on function api.progress(bigint, uuid, numeric, text) to authenticated, service_role;

-- >>> functions/api.purge_dead.sql
-- Delete dead jobs (and their events and idempotency keys) for good: all of the workspace's, or one queue's,
-- optionally only those dead for longer than older_than. Returns how many.
create or replace function api.purge_dead(queue text default null, older_than interval default null)
returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
  purged bigint[];
  keys text[];
begin
  if purge_dead.older_than is not null and purge_dead.older_than < interval '0' then
    perform collab.raise_error('PT400', 'invalid_input', 'older_than must not be negative', 'older_than');
  end if;
  -- Bounded above too: now - older_than must stay a timestamp (else 22008, an internal error).
  if purge_dead.older_than > interval '1000 years' then
    perform collab.raise_error('PT400', 'invalid_input', 'older_than must be at most 1000 years', 'older_than');
  end if;
  -- Dead jobs live in collab.job_history (job_history_dead_idx).
  with gone as (
    delete from collab.job_history x
     where x.workspace_id = ws and x.status = 'dead'
       and (purge_dead.queue is null or x.queue = purge_dead.queue)
       and (purge_dead.older_than is null or x.finished_at < collab.clock() - purge_dead.older_than)
    returning x.id, x.idempotency_key
  )
  select array_agg(gone.id), array_agg(gone.idempotency_key) filter (where gone.idempotency_key is not null)
    into purged, keys
    from gone;
  if purged is null then
    return 0;
  end if;
  -- A purged job's key is free again, as it was when the job left collab.jobs.
  delete from collab.idempotency_keys k
   where k.workspace_id = ws and k.key = any(keys) and k.job_id = any(purged);
  delete from collab.job_events e where e.job_id = any(purged);
  return cardinality(purged);
end
$$;
comment on function api.purge_dead(text, interval) is
  'Delete dead jobs and their events and idempotency keys: all, or one queue''s, or those dead for longer than older_than. Returns the count.';
revoke all on function api.purge_dead(text, interval) from public;
grant execute on function api.purge_dead(text, interval) to authenticated, service_role;

-- >>> functions/api.purge_events.sql
-- Event retention on demand (operators, a scheduler): see collab.purge_events.
create or replace function api.purge_events(older_than interval default interval '7 days', batch_size integer default 10000)
returns bigint
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
  select collab.purge_events(purge_events.older_than, purge_events.batch_size)
$$;
comment on function api.purge_events(interval, integer) is
  'Deletes up to batch_size of the oldest events created before now - older_than (a prefix of the stream). Service role only. Returns how many; call again until 0. Consumers whose cursor falls behind get PT410 cursor_expired.';
revoke all on function api.purge_events(interval, integer) from public;
grant execute on function api.purge_events(interval, integer) to service_role;

-- >>> functions/api.reap.sql
-- Housekeeping on demand (operators, cron without pg_cron): see collab.reap.
create or replace function api.reap()
returns jsonb
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
  select collab.reap()
$$;
comment on function api.reap() is
  'Expire overdue leases everywhere and mark silent executors offline, releasing their jobs; roll the metrics up; count stored jobs against the stored_jobs limit (enqueue refuses while a workspace is at it, until a reap finds it under). Service role only. Returns the counts.';
revoke all on function api.reap() from public;
grant execute on function api.reap() to service_role;

-- >>> functions/api.register_executor.sql
-- Register an executor (idempotent per name within the workspace) and mark it present. A new
-- executor, or one that was offline, gets an `executor_online` event in the same transaction.
create or replace function api.register_executor(
  name text,
  queues text[] default '{}',
  heartbeat_seconds integer default 5
)
returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  service boolean := collab.is_service_caller();
  q text;
  was_online boolean;
  ex collab.executors;
begin
  if register_executor.name is null or length(register_executor.name) not between 1 and 200 then
    perform collab.raise_error('PT400', 'invalid_input', 'name must be 1-200 characters', 'name');
  end if;
  if register_executor.heartbeat_seconds is null or register_executor.heartbeat_seconds not between 5 and 10 then
    perform collab.raise_error('PT400', 'invalid_input', 'heartbeat_seconds must be between 5 and 10', 'heartbeat_seconds');
  end if;
  if cardinality(register_executor.queues) > 100 then
    perform collab.raise_error('PT400', 'invalid_input',
      format('queues holds %s names; at most 100', cardinality(register_executor.queues)), 'queues');
  end if;
  foreach q in array coalesce(register_executor.queues, '{}') loop
    perform collab.check_name('queues', q);
  end loop;
  -- The previous presence, locked so that concurrent registrations emit one online event.
  select e.online into was_online from collab.executors e
   where e.workspace_id = ws and e.name = register_executor.name
     for update;
  insert into collab.executors as e (workspace_id, name, queues, user_id, heartbeat_seconds, online, last_seen_at)
  values (ws, register_executor.name, coalesce(register_executor.queues, '{}'), collab.caller_id(),
          register_executor.heartbeat_seconds, true, collab.clock())
  on conflict on constraint executors_name_unique do update
     set queues = excluded.queues, heartbeat_seconds = excluded.heartbeat_seconds,
         online = true, last_seen_at = excluded.last_seen_at
   where service or e.user_id is not distinct from excluded.user_id  -- an executor acts only as itself
  returning e.* into ex;
  if ex.id is null then
    perform collab.raise_error('PT403', 'forbidden',
      format('executor %s belongs to another user', quote_literal(register_executor.name)), 'name',
      'register under another name', jsonb_build_object('required_role', 'executor'));
  end if;
  if was_online is distinct from true then
    perform collab.record_presence(ex, 'executor_online');
  end if;
  return ex.id;
end
$$;
comment on function api.register_executor(text, text[], integer) is
  'Register (or re-register) the executor called name with the queues it serves; returns its id. heartbeat_seconds: 5-10, how often it will call api.heartbeat. Emits executor_online when it was new or offline.';
revoke all on function api.register_executor(text, text[], integer) from public;
grant execute on function api.register_executor(text, text[], integer) to authenticated, service_role;

-- >>> functions/api.remove_member.sql
-- An admin or owner removes user_id from the caller's workspace, and cancels their pending
-- invitation there. The rank rules of api.add_member hold: nobody removes someone above their
-- own rank (or cancels an invitation to a role above it), and only an owner removes another
-- admin (anyone may remove themselves, as api.leave_workspace). The last owner is never
-- removed (PT409 last_owner; the owner rows are locked before they are counted). PT404
-- member_not_found when user_id is neither a member nor invited. Service callers may remove
-- anyone but the last owner.
create or replace function api.remove_member(user_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
  uid uuid := collab.caller_id();
  service boolean := collab.is_service_caller();
  mine text;
  theirs text;
  invited text;
begin
  if remove_member.user_id is null then
    perform collab.raise_error('PT400', 'invalid_input', 'user_id is required', 'user_id');
  end if;
  -- The invitation first: a concurrent accept_invitation (or decline) finishes, and the
  -- membership it made is read below.
  select i.role into invited from collab.invitations i
   where i.workspace_id = ws and i.user_id = remove_member.user_id
   for update;
  select m.role into theirs from collab.members m
   where m.workspace_id = ws and m.user_id = remove_member.user_id;
  if theirs is null and invited is null then
    perform collab.raise_error('PT404', 'member_not_found',
      format('user %s is neither a member of workspace %s nor invited to it', remove_member.user_id, ws),
      'user_id');
  end if;
  if not service then
    select m.role into mine from collab.members m
     where m.workspace_id = ws and m.user_id = uid;
    if not collab.may_manage(mine, theirs, remove_member.user_id = uid)
       or collab.role_rank(invited) > collab.role_rank(mine) then
      perform collab.raise_error('PT403', 'forbidden',
        format('a %s cannot remove a %s (an admin is removed by an owner)', mine, coalesce(theirs, 'invited ' || invited)),
        'user_id', 'ask an owner', jsonb_build_object('required_role', 'owner', 'role', mine));
    end if;
  end if;
  perform collab.require_another_owner(ws, remove_member.user_id);  -- locks, then counts
  -- The rank rules again on the row as it is when deleted (a concurrent promotion waits or wins).
  delete from collab.members m
   where m.workspace_id = ws and m.user_id = remove_member.user_id
     and (service or collab.may_manage(mine, m.role, m.user_id = uid))
  returning m.role into theirs;
  if not found and exists (select 1 from collab.members m
                            where m.workspace_id = ws and m.user_id = remove_member.user_id) then
    perform collab.raise_error('PT403', 'forbidden',
      format('a %s cannot remove user %s, whose role changed meanwhile', mine, remove_member.user_id),
      'user_id', 'ask an owner', jsonb_build_object('required_role', 'owner', 'role', mine));
  end if;
  delete from collab.invitations i where i.workspace_id = ws and i.user_id = remove_member.user_id
  returning i.role into invited;
  if theirs is null and invited is null then  -- removed or declined meanwhile
    perform collab.raise_error('PT404', 'member_not_found',
      format('user %s is neither a member of workspace %s nor invited to it', remove_member.user_id, ws),
      'user_id');
  end if;
  -- The invitations they sent lapse with their membership.
  delete from collab.invitations i where i.workspace_id = ws and i.invited_by = remove_member.user_id;
  return jsonb_build_object('workspace_id', ws, 'user_id', remove_member.user_id,
                            'role', theirs, 'invitation_role', invited,
                            'status', case when theirs is not null then 'removed' else 'invitation_cancelled' end);
end
$$;
comment on function api.remove_member(uuid) is
  'Remove user_id from the caller''s workspace and cancel their pending invitation there. Needs admin; nobody removes someone above their own role (or cancels an invitation to a role above it), only an owner removes another admin. The invitations the removed member sent are cancelled too. Returns {workspace_id, user_id, role (the role removed, null if only invited), invitation_role, status: removed or invitation_cancelled}. PT404 member_not_found when user_id is neither a member nor invited; PT409 last_owner for the only owner.';
revoke all on function api.remove_member(uuid) from public;
grant execute on function api.remove_member(uuid) to authenticated, service_role;

-- >>> functions/api.requeue.sql
-- Replay dead jobs from the dead-letter queue: dead -> queued now, with a fresh budget of
-- the queue's max_attempts on top of the attempts made. All or nothing: an unknown id is
-- PT404 job_not_found, a job that is not dead PT409 not_dead, more than the max_queued_jobs
-- quota allows PT429 quota_exceeded, and then nothing changes. The jobs move back from
-- collab.job_history to collab.jobs in one statement, keeping their ids; the insert trigger
-- (collab.jobs_after_insert) writes their `requeued` events.
create or replace function api.requeue(job_ids bigint[])
returns setof api.job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
  bad record;
begin
  if requeue.job_ids is null or cardinality(requeue.job_ids) = 0 or cardinality(requeue.job_ids) > 10000 then
    perform collab.raise_error('PT400', 'invalid_input', 'job_ids must hold 1-10000 ids', 'job_ids');
  end if;
  select i.id, j.status into bad
    from unnest(requeue.job_ids) i(id)
    left join (select x.id, x.status from collab.jobs x where x.workspace_id = ws and x.id = any(requeue.job_ids)
               union all
               select h.id, h.status from collab.job_history h
                where h.workspace_id = ws and h.id = any(requeue.job_ids)) j on j.id = i.id
   where j.id is null or j.status <> 'dead'
   order by j.id is not null, i.id
   limit 1;
  if found and bad.status is null then
    perform collab.raise_error('PT404', 'job_not_found', format('job %s not found', bad.id), 'job_ids',
      'nothing was requeued', jsonb_build_object('job_id', bad.id));
  elsif found then
    perform collab.raise_error('PT409', 'not_dead', format('job %s is %s, not dead', bad.id, bad.status),
      'job_ids', 'only dead jobs can be requeued; nothing was requeued',
      jsonb_build_object('job_id', bad.id, 'status', bad.status));
  end if;
  -- Requeued jobs count against the max_queued_jobs quota like new ones.
  perform collab.check_queued_quota(ws, (select count(distinct i)::integer from unnest(requeue.job_ids) i));
  return query
  with moved as (
    delete from collab.job_history h
     where h.workspace_id = ws and h.id = any(requeue.job_ids) and h.status = 'dead'
    returning h.*
  ),
  done as (
    insert into collab.jobs as x (id, workspace_id, queue, type, payload, priority, status, last_event,
                                  run_at, attempt, max_attempts, idempotency_key, executor_id,
                                  lease_token, lease_seconds, lease_expires_at, cancel_requested,
                                  progress, progress_message, result, last_error, created_at,
                                  claimed_at, finished_at)
    overriding system value
    select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority, 'queued', 'requeued',
           collab.clock(), m.attempt, m.attempt + coalesce(q.max_attempts, m.max_attempts), m.idempotency_key, m.executor_id,
           m.lease_token, m.lease_seconds, null, false, m.progress, m.progress_message, m.result,
           m.last_error, m.created_at, m.claimed_at, null
      from moved m
      left join collab.queues q on q.workspace_id = m.workspace_id and q.name = m.queue
     order by m.id
    returning x as j
  )
  select r.* from done cross join lateral collab.job_row(done.j) r order by r.id;
end
$$;
comment on function api.requeue(bigint[]) is
  'Requeue dead jobs (the DLQ) now, with a new budget of the queue''s max_attempts. All or nothing; counts against max_queued_jobs (PT429 quota_exceeded).';
revoke all on function api.requeue(bigint[]) from public;
grant execute on function api.requeue(bigint[]) to authenticated, service_role;

-- >>> functions/api.resume_queue.sql
-- Resume a paused queue.
create or replace function api.resume_queue(queue text)
returns api.queue
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
  q collab.queues;
begin
  perform collab.ensure_queue(ws, resume_queue.queue);
  update collab.queues x set paused = false
   where x.workspace_id = ws and x.name = resume_queue.queue
  returning * into q;
  return collab.queue_row(q);
end
$$;
comment on function api.resume_queue(text) is
  'Resume a paused queue.';
revoke all on function api.resume_queue(text) from public;
grant execute on function api.resume_queue(text) to authenticated, service_role;

-- >>> functions/api.whoami.sql
-- Who the caller is and where they act: the workspace every other call of theirs acts in
-- (collab.current_workspace), their role there ('service' for service callers), and the
-- channels to LISTEN on for that workspace (direct connections: workers and subscribers).
create or replace function api.whoami()
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
  held text;
begin
  if collab.is_service_caller() then
    held := 'service';
  else
    select m.role into held from collab.members m where m.workspace_id = ws and m.user_id = collab.caller_id();
  end if;
  return jsonb_build_object(
    'user_id', case when held = 'service' then null else collab.caller_id() end,
    'workspace_id', ws,
    'role', held,
    'jobs_channel', 'collab_jobs:' || ws::text,
    'events_channel', 'collab_events:' || ws::text);
end
$$;
comment on function api.whoami() is
  'The caller''s user id, the workspace their calls act in, their role there (service for the service role), and the LISTEN channels of that workspace: jobs_channel (runnable jobs, payload: queue names) and events_channel (new events).';
revoke all on function api.whoami() from public;
grant execute on function api.whoami() to authenticated, service_role;

-- >>> functions/collab.backoff_delay.sql
-- Delay before retrying after failed attempt number `attempt` (1-based):
-- min(max, base * 2^(attempt-1)), reduced by up to `jitter` (a fraction) at random.
-- Bounds: [min(max, base*2^(attempt-1)) * (1 - jitter), min(max, base*2^(attempt-1))].
-- No SET clause, so the planner can inline it (names are schema-qualified).
create or replace function collab.backoff_delay(
  attempt integer,
  base_seconds double precision,
  max_seconds double precision,
  jitter double precision
)
returns interval
language sql
volatile
parallel safe
as $$
  select make_interval(secs =>
    least(max_seconds, base_seconds * power(2::double precision, least(greatest(attempt, 1) - 1, 60)))
    * (1 - jitter * random()))
$$;
comment on function collab.backoff_delay(integer, double precision, double precision, double precision) is
  'Exponential backoff with jitter: min(max, base*2^(attempt-1)) * (1 - jitter*random()).';

-- >>> functions/collab.bucket_tokens.sql
-- A token bucket's level at now_: what it held at refreshed_at plus what refilled since, at
-- rate per second, capped at burst. One line of SQL, so the planner inlines it into the
-- statements of collab.take_tokens (one definition of the refill for its three writes).
create or replace function collab.bucket_tokens(
  tokens double precision,
  refreshed_at timestamptz,
  now_ timestamptz,
  rate double precision,
  burst double precision
)
returns double precision
language sql
immutable
parallel safe
as $$
  select least(burst, tokens + rate * greatest(extract(epoch from now_ - refreshed_at)::double precision, 0))
$$;
comment on function collab.bucket_tokens(double precision, timestamptz, timestamptz, double precision, double precision) is
  'Token-bucket level at now_: tokens at refreshed_at plus rate per second since, at most burst.';

-- >>> functions/collab.caller_id.sql
-- The signed-in caller's user id: the JWT's `sub` claim (request.jwt.claim.sub, or the sub key of
-- request.jwt.claims, as auth.uid() reads them), or null without one. Collab keys members by
-- uuid: a `sub` that is no uuid (Clerk's "user_2abc", Auth0's "auth0|123") is refused with
-- PT403 unsupported_subject instead of auth.uid()'s cast error 22P02. A regex, not an
-- exception block: this runs on every call of a signed-in user, and a block would cost a
-- subtransaction each time.
create or replace function collab.caller_id()
returns uuid
language plpgsql
stable
as $$
declare
  sub text := coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                       nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub');
begin
  if sub is null then
    return null;
  end if;
  if sub !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' then
    perform collab.raise_error('PT403', 'unsupported_subject',
      format('the JWT''s sub claim %s is not a uuid: Collab identifies users by uuid', quote_literal(left(sub, 60))),
      'sub', 'issue tokens whose sub is the user''s uuid (Supabase Auth does), or map your provider''s ids to uuids');
  end if;
  return sub::uuid;
end
$$;
comment on function collab.caller_id() is
  'The caller''s user id (the JWT sub claim, as auth.uid() reads it), null without one; PT403 unsupported_subject when sub is not a uuid.';

-- >>> functions/collab.check_created_limit.sql
-- Statement-level, after insert on collab.queues or collab.executors: refuses the statement
-- with PT429 quota_exceeded {quota: queues|executors, limit} when a workspace now has more
-- than the operator allows. Only rows really inserted count (ON CONFLICT updates do not). The
-- workspace row is locked first (FOR NO KEY UPDATE: foreign-key checks do not wait on it), so
-- concurrent creations in one workspace are counted one after the other and the limit holds.
-- TG_ARGV[0]: the limit's name (queues or executors).
create or replace function collab.check_created_limit()
returns trigger
language plpgsql
as $$
declare
  d record;
  limits jsonb;
  used bigint;
begin
  for d in select n.workspace_id from new_rows n group by n.workspace_id order by n.workspace_id loop
    perform 1 from collab.workspaces w where w.id = d.workspace_id for no key update;
    limits := collab.workspace_limits(d.workspace_id);
    if tg_argv[0] = 'queues' then
      select count(*) into used from (
        select 1 from collab.queues q where q.workspace_id = d.workspace_id
         limit (limits ->> 'queues')::bigint + 1) x;
    else
      select count(*) into used from (
        select 1 from collab.executors e where e.workspace_id = d.workspace_id
         limit (limits ->> 'executors')::bigint + 1) x;
    end if;
    perform collab.check_limit(tg_argv[0], used, limits, case tg_argv[0] when 'queues' then 'queue' else 'name' end);
  end loop;
  return null;
end
$$;
comment on function collab.check_created_limit() is
  'Trigger: enforces the operator''s queues / executors limit per workspace (PT429 quota_exceeded).';

-- >>> functions/collab.check_invariants.sql
-- Every violation of Collab's invariants found now (empty = healthy). Read-only; scans the
-- tables, so it is for operators (`collab doctor`) and the chaos and fuzz suites, not the
-- hot path. Transient states are not violations: an expired lease not yet reclaimed is fine.
-- A job lives in exactly one place: collab.jobs while queued or running, collab.job_history
-- once finished; every_job is both.
create or replace function collab.check_invariants()
returns table (invariant text, job_id bigint, detail jsonb)
language sql
stable
as $$
  with every_job as (
    select * from collab.jobs
    union all
    select (collab.history_job(h)).* from collab.job_history h
  )
  -- A running job must be held by an existing executor that is online or whose lease is live.
  select 'running_without_owner', j.id,
         jsonb_build_object('executor_id', j.executor_id, 'lease_expires_at', j.lease_expires_at)
    from collab.jobs j
    left join collab.executors e on e.id = j.executor_id
   where j.status = 'running'
     and (e.id is null or (not e.online and j.lease_expires_at < collab.clock()))
  union all
  -- A lease token is drawn fresh for every claim and never shared.
  select 'lease_token_reused', min(j.id), jsonb_build_object('jobs', array_agg(j.id order by j.id))
    from every_job j
   where j.lease_token is not null
   group by j.lease_token
  having count(*) > 1
  union all
  -- The status of a job is the one its last event leads to.
  select 'state_disagrees_with_last_event', j.id,
         jsonb_build_object('status', j.status, 'last_event', last.type)
    from every_job j
    cross join lateral (
      select e.type from collab.job_events e
       where e.job_id = j.id and e.type not in ('progress')
       order by e.id desc limit 1) last
   where j.status::text <> case
           when last.type in ('enqueued', 'requeued', 'retry_scheduled', 'lease_expired', 'lease_released') then 'queued'
           when last.type in ('claimed', 'cancel_requested') then 'running'
           else last.type::text end
  union all
  -- Every job has events, unless retention (collab.purge_events) removed its whole history:
  -- it deletes the oldest prefix of the stream, so only jobs created before the oldest event
  -- kept can have lost all of theirs.
  select 'job_without_events', j.id, '{}'::jsonb
    from every_job j
   where not exists (select 1 from collab.job_events e where e.job_id = j.id)
     and j.created_at >= coalesce((select min(e.created_at) from collab.job_events e
                                    where e.job_id is not null), '-infinity')
  union all
  select 'terminal_job_with_lease', j.id, jsonb_build_object('status', j.status)
    from every_job j
   where j.status in ('succeeded', 'cancelled', 'dead') and j.lease_expires_at is not null
  union all
  select 'attempts_above_max', j.id, jsonb_build_object('attempt', j.attempt, 'max_attempts', j.max_attempts)
    from every_job j
   where j.attempt > j.max_attempts
  union all
  -- One place per job: finished jobs are in the history only, live ones in collab.jobs only.
  select 'job_in_two_places', j.id, jsonb_build_object('statuses', array_agg(j.status::text order by j.status))
    from every_job j
   group by j.id
  having count(*) > 1
  union all
  select 'finished_job_in_hot_table', j.id, jsonb_build_object('status', j.status)
    from collab.jobs j
   where j.status in ('succeeded', 'cancelled', 'dead')
  union all
  select 'event_without_job', e.job_id, jsonb_build_object('event_id', e.id, 'type', e.type)
    from collab.job_events e
   where e.job_id is not null
     and not exists (select 1 from collab.jobs j where j.id = e.job_id)
     and not exists (select 1 from collab.job_history h where h.id = e.job_id)
  union all
  select 'duplicate_idempotency_key', min(j.id),
         jsonb_build_object('idempotency_key', j.idempotency_key, 'jobs', array_agg(j.id order by j.id))
    from every_job j
   where j.idempotency_key is not null
   group by j.workspace_id, j.idempotency_key
  having count(*) > 1
  union all
  -- Every idempotency key names a stored job that carries it (api.purge_dead and
  -- collab.purge_job_history delete a job's key with the job) ...
  select 'idempotency_key_without_job', k.job_id, jsonb_build_object('idempotency_key', k.key)
    from collab.idempotency_keys k
   where not exists (select 1 from every_job j
                      where j.id = k.job_id and j.workspace_id = k.workspace_id
                        and j.idempotency_key = k.key)
  union all
  -- ... and every job enqueued with a key has its key row.
  select 'idempotency_key_missing', j.id, jsonb_build_object('idempotency_key', j.idempotency_key)
    from every_job j
   where j.idempotency_key is not null
     and not exists (select 1 from collab.idempotency_keys k
                      where k.workspace_id = j.workspace_id and k.key = j.idempotency_key
                        and k.job_id = j.id)
$$;
comment on function collab.check_invariants() is
  'Every invariant violation found (empty = healthy): running job without owner, reused lease token, state disagreeing with the last event, job without events, terminal job with a lease, attempts above max, a job in two places or a finished job in collab.jobs, event without job, duplicate idempotency key, an idempotency key without its job or a keyed job without its key.';

-- >>> functions/collab.check_limit.sql
-- Raise PT429 quota_exceeded when `used` exceeds the operator limit `quota` (queues,
-- executors, stored_jobs, workspaces_per_user) of limits `limits`.
create or replace function collab.check_limit(quota text, used bigint, limits jsonb, field text)
returns void
language plpgsql
stable
as $$
declare
  cap bigint := (check_limit.limits ->> check_limit.quota)::bigint;
begin
  if check_limit.used > cap then
    perform collab.raise_error('PT429', 'quota_exceeded',
      format('the limit of %s %s is reached (%s asked)', cap, replace(check_limit.quota, '_', ' '), check_limit.used),
      check_limit.field, 'ask the operator to raise the limit (it is not a workspace setting)',
      jsonb_build_object('quota', check_limit.quota, 'limit', cap));
  end if;
end
$$;
comment on function collab.check_limit(text, bigint, jsonb, text) is
  'Raises PT429 quota_exceeded {quota, limit} when used exceeds the operator limit named quota.';

-- >>> functions/collab.check_name.sql
-- Queue and type names: 1-100 characters of letters, digits, '.', '_', '-', ':'.
create or replace function collab.check_name(field text, value text)
returns text
language plpgsql
immutable
as $$
begin
  if value is null or not collab.is_name(value) then
    perform collab.raise_error('PT400', 'invalid_input',
      format('%s must be 1-100 characters of letters, digits, ".", "_", "-" or ":" (got %s)',
             field, coalesce(quote_literal(left(value, 40)), 'null')),
      field);
  end if;
  return value;
end
$$;
comment on function collab.check_name(text, text) is
  'Validates a queue or type name; raises PT400 invalid_input naming the field.';

-- >>> functions/collab.check_queued_quota.sql
-- The max_queued_jobs quota: enqueueing (or requeueing) `adding` jobs may not take the
-- workspace's queued jobs beyond it (PT429 quota_exceeded). Only when a quota is set: then
-- the workspace row is locked (FOR NO KEY UPDATE, held to the end of the transaction; the
-- foreign-key checks of inserted jobs take KEY SHARE and do not wait on it) before counting,
-- so concurrent enqueuers of one workspace count one after the other, each seeing what the
-- previous one committed: a hard limit. The count is an index-only scan of at most
-- max_queued_jobs entries (jobs_list_status_idx). Without a quota: one primary-key read.
-- (Under REPEATABLE READ the count cannot see a later commit; PostgREST reads committed.)
-- Retries (a failed attempt, an expired lease) move a job back to queued without a check.
create or replace function collab.check_queued_quota(workspace_id uuid, adding integer)
returns void
language plpgsql
volatile
as $$
declare
  quota integer := (select w.max_queued_jobs from collab.workspaces w where w.id = check_queued_quota.workspace_id);
  queued integer;
begin
  if quota is null then
    return;
  end if;
  select w.max_queued_jobs into quota from collab.workspaces w
   where w.id = check_queued_quota.workspace_id
     for no key update;
  if quota is null then
    return;
  end if;
  select count(*) into queued from (
    select 1 from collab.jobs j
     where j.workspace_id = check_queued_quota.workspace_id and j.status = 'queued'
     limit quota) x;
  if queued + check_queued_quota.adding > quota then
    perform collab.raise_error('PT429', 'quota_exceeded',
      format('the workspace may have at most %s queued jobs (%s queued, %s more asked)',
             quota, queued, check_queued_quota.adding),
      'jobs', 'wait for executors to drain the queues, or ask an admin to raise max_queued_jobs',
      jsonb_build_object('quota', 'max_queued_jobs', 'limit', quota, 'queued', queued));
  end if;
end
$$;
comment on function collab.check_queued_quota(uuid, integer) is
  'Raises PT429 quota_exceeded when enqueueing or requeueing would take the workspace beyond its max_queued_jobs; serialized per workspace while a quota is set (a hard limit).';

-- >>> functions/collab.clock.sql
-- The one clock of Collab: transaction time, moved by the `collab.clock_offset` setting
-- (an interval) so tests can travel in time. Leases and backoff use nothing else.
-- No SET clause, so the planner can inline it (names are schema-qualified).
create or replace function collab.clock()
returns timestamptz
language sql
stable
parallel safe
as $$
  select now() + coalesce(nullif(current_setting('collab.clock_offset', true), '')::interval,
                          interval '0')
$$;
comment on function collab.clock() is
  'Current time for every Collab rule: now() plus the collab.clock_offset setting (tests move it).';

-- >>> functions/collab.count_stored_jobs.sql
-- The stored_jobs limit (finding 4), enforced off the hot path: no trigger and no counter row
-- on collab.jobs, so enqueue, claim and complete pay nothing for it. Counts the jobs (any
-- status, live in collab.jobs or finished in collab.job_history) of workspaces with a
-- bounded index-only count (at most limit + 1 index entries
-- each) and records it on the workspace row: stored_jobs, stored_jobs_counted_at,
-- stored_jobs_counted_id, and stored_jobs_full (count >= limit), which api.enqueue and
-- api.enqueue_batch read with the workspace row they already read (PT429 quota_exceeded
-- stored_jobs while set).
-- With workspace_id: that workspace (api.configure_limits). Without: what collab.reap counts,
-- only the workspaces whose count could matter: full ones (the flag clears once purges bring
-- the count under the limit), never counted ones, those whose last count plus every job id
-- handed out since (an upper bound on what they can have added) reaches their limit, and
-- each workspace at least hourly (jobs of a transaction still open at a count are seen by
-- neither the count nor that bound).
-- The reaper skips a workspace whose row another transaction holds (a queue or executor
-- being created, a quota'd enqueue): it never waits on a tenant, and counts it next time.
-- The bound this gives, stated in docs/security.md: a workspace can go over its limit by
-- what it enqueues between two counts (one minute with pg_cron; reap more often to tighten
-- it). Returns the number of workspaces counted.
create or replace function collab.count_stored_jobs(workspace_id uuid default null)
returns integer
language plpgsql
volatile
as $$
declare
  -- Read before the count: every job with a higher id is in the next bound. The last id the
  -- identity handed out (finished jobs have left collab.jobs, so its max(id) is no bound).
  last_id bigint := coalesce(pg_catalog.pg_sequence_last_value('collab.jobs_id_seq'::regclass), 0);
  now_ timestamptz := collab.clock();
  ids uuid[];
  n integer;
begin
  if count_stored_jobs.workspace_id is not null then
    ids := array[count_stored_jobs.workspace_id];
  else
    ids := array(
      select w.id
        from collab.workspaces w cross join collab.platform_limits p
       where w.stored_jobs_full
          or w.stored_jobs_counted_at is null
          or w.stored_jobs_counted_at < now_ - interval '1 hour'
          or w.stored_jobs + greatest(last_id - w.stored_jobs_counted_id, 0)
             >= coalesce(w.limit_stored_jobs, p.stored_jobs_per_workspace)
         for no key update of w skip locked);
  end if;
  update collab.workspaces w
     set stored_jobs = c.stored,
         stored_jobs_full = c.stored >= c.cap,
         stored_jobs_counted_at = now_,
         stored_jobs_counted_id = greatest(last_id, w.stored_jobs_counted_id)
    from (select x.id, x.cap,
                 (select count(*) from (select 1 from collab.jobs j where j.workspace_id = x.id
                                        union all
                                        select 1 from collab.job_history h where h.workspace_id = x.id
                                        limit x.cap + 1) s) as stored
            from (select v.id, coalesce(v.limit_stored_jobs, p.stored_jobs_per_workspace) as cap
                    from collab.workspaces v cross join collab.platform_limits p
                   where v.id = any(ids)) x) c
   where w.id = c.id;
  get diagnostics n = row_count;
  return n;
end
$$;
comment on function collab.count_stored_jobs(uuid) is
  'Counts the stored jobs (any status, at most limit + 1) of one workspace, or of those whose count could reach their stored_jobs limit (collab.reap), and sets workspaces.stored_jobs_full, which enqueue refuses on (PT429 quota_exceeded stored_jobs). Returns the number of workspaces counted.';

-- >>> functions/collab.current_workspace.sql
-- The one place that decides which workspace a caller acts for.
-- * service callers (collab.is_service_caller()) may name any existing workspace in the
--   `workspace_id` claim; without one they act in the default workspace;
-- * an authenticated user acts in the workspace named by the claim only if collab.members
--   has them there (else PT403 workspace_forbidden); with no claim, in their only workspace
--   (PT400 invalid_workspace when they belong to several, PT403 when to none);
-- * anyone else (anon, a user without `sub`) is refused with PT403 forbidden.
create or replace function collab.current_workspace()
returns uuid
language plpgsql
stable
as $$
declare
  claimed text := nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'workspace_id';
  uid uuid;
  ws uuid;
  found_count integer;
begin
  if claimed is not null then
    begin
      ws := claimed::uuid;
    exception when invalid_text_representation then
      perform collab.raise_error('PT400', 'invalid_workspace',
        'the workspace_id claim is not a uuid', 'workspace_id');
    end;
  end if;
  if collab.is_service_caller() then
    if ws is null then
      return collab.default_workspace_id();
    end if;
    if not exists (select 1 from collab.workspaces w where w.id = ws) then
      perform collab.raise_error('PT403', 'workspace_forbidden',
        format('workspace %s does not exist or is not yours', ws), 'workspace_id');
    end if;
    return ws;
  end if;
  uid := collab.require_user('this call', 'viewer');
  if ws is not null then
    if not exists (select 1 from collab.members m where m.workspace_id = ws and m.user_id = uid) then
      perform collab.raise_error('PT403', 'workspace_forbidden',
        format('workspace %s does not exist or is not yours', ws), 'workspace_id',
        'ask an admin of that workspace to invite you (api.add_member), then accept (api.accept_invitation)');
    end if;
    return ws;
  end if;
  select min(m.workspace_id::text)::uuid, count(*) into ws, found_count
    from collab.members m where m.user_id = uid;
  if found_count = 0 then
    perform collab.raise_error('PT403', 'workspace_forbidden',
      'you are not a member of any workspace', 'workspace_id',
      'create one with api.create_workspace, or accept an invitation (api.list_invitations, api.accept_invitation)');
  elsif found_count > 1 then
    perform collab.raise_error('PT400', 'invalid_workspace',
      format('you are a member of %s workspaces: name one in the workspace_id claim', found_count),
      'workspace_id', 'put the workspace id in the JWT''s workspace_id claim');
  end if;
  return ws;
end
$$;
comment on function collab.current_workspace() is
  'Workspace of the caller: service callers name any workspace by the workspace_id claim (default workspace without one); users only a workspace they are a member of (their only one without a claim).';

-- >>> functions/collab.default_workspace_id.sql
-- The workspace used when the caller names none (single-tenant installs, psql sessions).
-- No SET clause, so the planner can inline it (names are schema-qualified).
create or replace function collab.default_workspace_id()
returns uuid
language sql
immutable
parallel safe
as $$
  select '00000000-0000-0000-0000-000000000001'::uuid
$$;
comment on function collab.default_workspace_id() is 'Id of the default workspace created by the migrations.';

-- >>> functions/collab.enable_realtime_broadcast.sql
-- Supabase Realtime broadcast, only where realtime.send exists (Supabase): creates the
-- trigger function collab.broadcast_events and attaches it to job_events, so that each
-- statement that writes events sends one message per workspace on the private topic
-- `workspace:<workspace_id>:events` (event `job_events`). Up to 100 events are carried in full;
-- a bigger statement (a batch enqueue) sends their count and cursor range instead (read them
-- with api.events_since). Who may receive a topic is decided by the RLS policy this function
-- puts on realtime.messages (collab_workspace_events_receive: members of the workspace, through
-- api.may_receive). Plain Postgres gets neither function nor trigger and pays nothing. Run
-- by every migration (sql/triggers/collab.job_events.job_events_broadcast.sql); returns
-- whether the broadcast is attached.
create or replace function collab.enable_realtime_broadcast()
returns boolean
language plpgsql
volatile
as $$
begin
  if to_regprocedure('realtime.send(jsonb,text,text,boolean)') is null then
    return false;
  end if;
  execute $ddl$
    create or replace function collab.broadcast_events()
    returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $fn$
    declare
      msg record;
    begin
      for msg in
        select n.workspace_id, count(*) as n,
               (array_agg(n.xid::text || ':' || n.id order by n.xid, n.id))[1] as first_cursor,
               (array_agg(n.xid::text || ':' || n.id order by n.xid desc, n.id desc))[1] as last_cursor,
               jsonb_agg(jsonb_build_object(
                 'id', n.id, 'job_id', n.job_id, 'type', n.type, 'queue', n.queue,
                 'job_type', n.job_type, 'attempt', n.attempt, 'executor_id', n.executor_id,
                 'data', n.data, 'created_at', n.created_at, 'cursor', n.xid::text || ':' || n.id)
                 order by n.xid, n.id) as events
          from new_events n
         group by n.workspace_id
      loop
        perform realtime.send(
          case when msg.n <= 100 then jsonb_build_object('events', msg.events)
               else jsonb_build_object('count', msg.n, 'first_cursor', msg.first_cursor,
                                       'last_cursor', msg.last_cursor) end,
          'job_events', 'workspace:' || msg.workspace_id || ':events', true);
      end loop;
      return null;
    end
    $fn$
  $ddl$;
  execute $ddl$
    comment on function collab.broadcast_events() is
      'Trigger (Supabase only, see collab.enable_realtime_broadcast): broadcasts the events of a statement per workspace on topic workspace:<id>:events via realtime.send.'
  $ddl$;
  execute 'revoke all on function collab.broadcast_events() from public';
  -- Who receives a topic: members of its workspace (api.may_receive), on private channels.
  if to_regclass('realtime.messages') is not null then
    drop policy if exists collab_workspace_events_receive on realtime.messages;
    create policy collab_workspace_events_receive on realtime.messages
      for select to authenticated
      using (realtime.messages.extension = 'broadcast' and api.may_receive(realtime.topic()));
  end if;
  drop trigger if exists job_events_broadcast on collab.job_events;
  create trigger job_events_broadcast
  after insert on collab.job_events
  referencing new table as new_events
  for each statement execute function collab.broadcast_events();
  return true;
end
$$;
comment on function collab.enable_realtime_broadcast() is
  'Creates and attaches the Supabase Realtime broadcast trigger (collab.broadcast_events) on job_events when realtime.send exists; returns whether it did.';

-- >>> functions/collab.ensure_job_history_partitions.sql
-- Partition upkeep of collab.job_history: one partition per UTC day of finished_at, from
-- today (collab.clock()) to days_ahead days ahead, each named job_history_YYYYMMDD, with row
-- level security on and the service role's grants, as the parent. A day already covered by
-- a partition is left alone. Rows the default partition holds for a new day move into it
-- (written straight into the partition: no event, they are no new change). Creating a
-- partition locks the parent for a moment (moves into the history wait): each is tried with
-- a 200 ms lock_timeout and, when busy (an autovacuum of the default partition, a long read
-- of the history), left to the next call (collab.reap runs it every minute; until then the
-- default partition takes the rows). Returns how many it created.
create or replace function collab.ensure_job_history_partitions(days_ahead integer default 7)
returns integer
language plpgsql
volatile
as $$
declare
  today date := (collab.clock() at time zone 'UTC')::date;
  day date;
  day_from timestamptz;
  day_to timestamptz;
  part_name text;
  held collab.job_history_default[];
  made integer := 0;
  old_lock_timeout text := current_setting('lock_timeout');
begin
  if days_ahead is null or days_ahead not between 0 and 366 then
    perform collab.raise_error('PT400', 'invalid_input', 'days_ahead must be between 0 and 366', 'days_ahead');
  end if;
  for day in select d::date from generate_series(today, today + days_ahead, interval '1 day') d loop
    day_from := day::timestamp at time zone 'UTC';
    day_to := (day + 1)::timestamp at time zone 'UTC';
    continue when exists (select 1 from collab.job_history_partitions() p
                           where (p.from_at is not null or p.to_at is not null)
                             and coalesce(p.from_at, '-infinity') < day_to and p.to_at > day_from);
    part_name := 'job_history_' || to_char(day, 'YYYYMMDD');
    begin
      perform set_config('lock_timeout', '200ms', true);
      -- The default partition first (the new partition takes its rows; moves into the day
      -- partitions do not wait meanwhile), then the parent ONLY (not every partition: an
      -- autovacuum of one would hold it up).
      lock table collab.job_history_default in access exclusive mode;
      lock table only collab.job_history in access exclusive mode;
      with moved as (
        delete from collab.job_history_default h
         where h.finished_at >= day_from and h.finished_at < day_to
        returning h.*
      )
      select array_agg(moved) into held from moved;
      execute format('create table collab.%I partition of collab.job_history for values from (%L) to (%L)',
                     part_name, day_from, day_to);
      execute format('alter table collab.%I enable row level security', part_name);
      execute format('grant select, insert, update, delete on collab.%I to service_role', part_name);
      if held is not null then
        execute format('insert into collab.%I select * from unnest($1)', part_name) using held;
      end if;
      perform set_config('lock_timeout', old_lock_timeout, true);
      made := made + 1;
    exception when lock_not_available then
      perform set_config('lock_timeout', old_lock_timeout, true);
    end;
  end loop;
  return made;
end
$$;
comment on function collab.ensure_job_history_partitions(integer) is
  'Creates the missing day partitions of collab.job_history from today to days_ahead (0-366) days ahead, moving rows of those days out of the default partition; a partition whose lock is busy is left to the next call. Returns how many it created.';

-- >>> functions/collab.ensure_queue.sql
-- The queue row of (workspace, name), created with the defaults on first use.
create or replace function collab.ensure_queue(workspace_id uuid, name text)
returns collab.queues
language plpgsql
volatile
as $$
declare
  q collab.queues;
begin
  select * into q from collab.queues x
   where x.workspace_id = ensure_queue.workspace_id and x.name = ensure_queue.name;
  if not found then
    insert into collab.queues as x (workspace_id, name)
    values (ensure_queue.workspace_id, collab.check_name('queue', ensure_queue.name))
    on conflict on constraint queues_pkey do update set name = excluded.name
    returning * into q;
  end if;
  return q;
end
$$;
comment on function collab.ensure_queue(uuid, text) is
  'Returns the queue, creating it with default settings when it does not exist.';

-- >>> functions/collab.expire_leases.sql
-- Expired leases count as failed attempts: the job is retried after a backoff
-- (`lease_expired`), or goes dead when attempts are exhausted, or is cancelled when a
-- cancel was pending. With a workspace and queues, only those (the claim path); with none,
-- everywhere (the reaper). Rows locked by others are skipped, so this never blocks claims.
create or replace function collab.expire_leases(
  workspace_id uuid default null,
  queues text[] default null,
  max_jobs integer default 1000
)
returns integer
language plpgsql
volatile
as $$
declare
  now_ timestamptz := collab.clock();
  expired bigint[];
begin
  if expire_leases.workspace_id is null then
    expired := array(
      select j.id from collab.jobs j
       where j.status = 'running' and j.lease_expires_at < now_
       order by j.lease_expires_at
       limit expire_leases.max_jobs
       for update skip locked);
  else
    -- The claim path: one range scan of jobs_running_lease_idx per queue. Written with
    -- queue = any(queues), the queue was no index condition: the generic plan read the leases
    -- of every queue of the workspace, through jobs_running_executor_idx or this index by
    -- workspace alone, dead entries included (tests/sql/533).
    expired := array(
      select e.id
        from unnest(expire_leases.queues) qn(name)
        cross join lateral (
          select j.id from collab.jobs j
           where j.workspace_id = expire_leases.workspace_id and j.queue = qn.name
             and j.status = 'running' and j.lease_expires_at < now_
           order by j.lease_expires_at
           limit expire_leases.max_jobs
           for update skip locked) e
       limit expire_leases.max_jobs);
  end if;
  if cardinality(expired) = 0 then
    return 0;
  end if;
  perform collab.release_jobs(expired, 'lease_expired');
  return cardinality(expired);
end
$$;
comment on function collab.expire_leases(uuid, text[], integer) is
  'Expires leases past lease_expires_at (failed attempt: retry with backoff, dead, or cancelled). Returns how many.';

-- >>> functions/collab.history_job.sql
-- A collab.job_history row as a collab.jobs row (the same columns in the same order), so
-- that every reader hands both homes of a job to the same code (collab.job_row).
-- No SET clause, so the planner can inline it (names are schema-qualified).
create or replace function collab.history_job(h collab.job_history)
returns collab.jobs
language sql
immutable
parallel safe
as $$
  select row(h.id, h.workspace_id, h.queue, h.type, h.payload, h.priority, h.status, h.last_event,
             h.run_at, h.attempt, h.max_attempts, h.idempotency_key, h.executor_id, h.lease_token,
             h.lease_seconds, h.lease_expires_at, h.cancel_requested, h.progress, h.progress_message,
             h.result, h.last_error, h.created_at, h.claimed_at, h.finished_at)::collab.jobs
$$;
comment on function collab.history_job(collab.job_history) is
  'Converts a collab.job_history row to a collab.jobs row (same columns, same order).';

-- >>> functions/collab.is_name.sql
-- The rule for queue and type names: 1-100 characters of letters, digits, '.', '_', '-', ':',
-- starting with a letter or digit. Written with '*' and a length test rather than '{0,99}',
-- which PostgreSQL's regex engine matches about 5x slower (it unrolls the bounded repeat):
-- enqueue_batch tests two names per element. A one-line SQL function, so the planner inlines it.
create or replace function collab.is_name(value text)
returns boolean
language sql
immutable
parallel safe
as $$
  select value ~ '^[A-Za-z0-9][A-Za-z0-9._:-]*$' and length(value) <= 100
$$;
comment on function collab.is_name(text) is
  'True when value is a valid queue or type name (1-100 of letters, digits, ".", "_", "-", ":"; first a letter or digit).';

-- >>> functions/collab.is_service_caller.sql
-- True when the caller may act for any workspace. Service status comes from the database role
-- of the session, never from a claim alone (finding 10 of the security review):
-- * the `role` setting is service_role (PostgREST switched to it for a service-role JWT; a
--   session can SET ROLE service_role only when its login is a member of it): yes;
-- * the role is anon or authenticated: no, whatever the claims say;
-- * no API role set (a direct login): claims that name someone (`sub`, or a `role` other than
--   service_role) speak for that someone: no. Otherwise, with no claims, a bare
--   `workspace_id`, or `{"role": "service_role"}`, the login itself must be privileged: a
--   superuser, a member of the owner of schema collab (psql DBAs, migrations, the direct
--   Python client), or a member of service_role (for `role: service_role`). A worker login
--   that was only granted `authenticated` stays a user, so it cannot claim its way into every
--   workspace.
-- Called on every api call: cheap tests first, the catalog last.
create or replace function collab.is_service_caller()
returns boolean
language plpgsql
stable
as $$
declare
  role_ text := coalesce(current_setting('role', true), 'none');
  claims jsonb;
  claimed_role text;
begin
  if role_ = 'service_role' then
    return true;
  elsif role_ in ('anon', 'authenticated') then
    return false;
  end if;
  claims := nullif(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb;
  claimed_role := coalesce(nullif(current_setting('request.jwt.claim.role', true), ''), claims ->> 'role');
  if claimed_role is distinct from 'service_role' and (claimed_role is not null or claims ? 'sub') then
    return false;  -- a JWT that names someone speaks for them, not for the session
  end if;
  if session_user = current_user then
    return true;  -- the functions' owner (inside a security definer function) or a direct owner session
  end if;
  return exists (
    select 1 from pg_catalog.pg_roles r
     where r.rolname = session_user
       and (r.rolsuper
            or pg_catalog.pg_has_role(session_user,
                 (select n.nspowner from pg_catalog.pg_namespace n where n.nspname = 'collab'), 'MEMBER')
            or (claimed_role = 'service_role'
                and pg_catalog.pg_has_role(session_user, 'service_role', 'MEMBER'))));
end
$$;
comment on function collab.is_service_caller() is
  'True for the service role (the role setting) and for privileged logins (superuser, owner of collab; members of service_role when the claims say role service_role) whose claims name nobody: they may name any workspace and hold every role.';

-- >>> functions/collab.job_history_after_insert.sql
-- Statement-level: every job moved into collab.job_history (succeeded, cancelled or dead, by
-- api.complete, api.complete_batch, api.fail, api.cancel or collab.release_jobs) gets the
-- event of that change in the same transaction, written as collab.jobs_after_update writes
-- the event of an update (type = last_event, data for that type), and the workspace's stream
-- subscribers are woken (collab.notify_events). The moving statement takes the row from its
-- source state only (its WHERE clause), and the CHECK job_history_terminal pins the event to
-- the new state, so a move cannot be an illegal transition.
create or replace function collab.job_history_after_insert()
returns trigger
language plpgsql
as $$
declare
  written bigint;
begin
  insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, executor_id, data, created_at)
  select n.workspace_id, n.id, n.last_event, n.queue, n.type, n.attempt, n.executor_id,
         case n.last_event
           when 'dead' then jsonb_build_object('error', n.last_error)
           else '{}'::jsonb
         end,
         collab.clock()
    from new_jobs n
   order by n.id;
  get diagnostics written = row_count;
  if written > 0 then
    perform collab.notify_events(w.workspace_id) from (select distinct n.workspace_id from new_jobs n) w;
  end if;
  return null;
end
$$;
comment on function collab.job_history_after_insert() is
  'Trigger: writes the event of each job moved into collab.job_history (succeeded, cancelled, dead) and wakes the workspace''s stream subscribers (collab.notify_events).';

-- >>> functions/collab.job_history_partitions.sql
-- The partitions of collab.job_history with their ranges of finished_at (from_at null: from
-- the beginning; both null: the default partition), read from the catalog.
create or replace function collab.job_history_partitions()
returns table (partition regclass, from_at timestamptz, to_at timestamptz)
language sql
stable
as $$
  select c.oid::regclass,
         (regexp_match(b.bound, $r$FROM \('([^']*)'\)$r$))[1]::timestamptz,
         (regexp_match(b.bound, $r$TO \('([^']*)'\)$r$))[1]::timestamptz
    from pg_catalog.pg_inherits i
    join pg_catalog.pg_class c on c.oid = i.inhrelid
    cross join lateral (select pg_catalog.pg_get_expr(c.relpartbound, c.oid) as bound) b
   where i.inhparent = 'collab.job_history'::regclass
   order by 3 nulls first
$$;
comment on function collab.job_history_partitions() is
  'Partitions of collab.job_history and the range of finished_at each holds (from_at null: unbounded below; from_at and to_at null: the default partition).';

-- >>> functions/collab.job_row.sql
-- A job as the api returns it.
-- No SET clause, so the planner can inline it (names are schema-qualified). STABLE, not
-- IMMUTABLE: the enum-to-text cast is stable, and an IMMUTABLE function whose body is not is
-- never inlined (a SQL-function call per row instead; tests/sql/531).
create or replace function collab.job_row(j collab.jobs, duplicate boolean default false)
returns api.job
language sql
stable
parallel safe
as $$
  select row(j.id, j.queue, j.type, j.status::text, j.payload, j.priority, j.attempt,
             j.max_attempts, j.run_at, j.idempotency_key, j.executor_id, j.lease_expires_at,
             j.cancel_requested, j.progress, j.progress_message, j.result, j.last_error,
             j.created_at, j.claimed_at, j.finished_at, duplicate)::api.job
$$;
comment on function collab.job_row(collab.jobs, boolean) is 'Converts a collab.jobs row to api.job.';

-- >>> functions/collab.jobs_after_insert.sql
-- Statement-level: one event per inserted job, in the same transaction: `enqueued` for a new
-- job, `requeued` for a dead job api.requeue moved back from collab.job_history; and per
-- workspace one worker wake-up naming its queues (collab.notify_jobs) and one stream wake-up
-- (collab.notify_events). Idempotent duplicates insert nothing, so get no event.
create or replace function collab.jobs_after_insert()
returns trigger
language plpgsql
as $$
begin
  if exists (select 1 from new_jobs n
              where n.status <> 'queued' or n.last_event not in ('enqueued', 'requeued')) then
    perform collab.raise_error('PT409', 'illegal_transition',
      'a new job must start queued with the enqueued event', 'status');
  end if;
  insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, executor_id, data, created_at)
  select n.workspace_id, n.id, n.last_event, n.queue, n.type, n.attempt,
         case when n.last_event = 'requeued' then n.executor_id end,
         case when n.last_event = 'requeued' then jsonb_build_object('run_at', n.run_at)
              else jsonb_build_object('priority', n.priority, 'run_at', n.run_at) end,
         case when n.last_event = 'requeued' then collab.clock() else n.created_at end
    from new_jobs n
   order by n.id;
  perform collab.notify_jobs(w.workspace_id, w.queues), collab.notify_events(w.workspace_id)
     from (select n.workspace_id, array_agg(distinct n.queue order by n.queue) as queues
             from new_jobs n group by n.workspace_id) w;
  return null;
end
$$;
comment on function collab.jobs_after_insert() is
  'Trigger: writes the enqueued event of each new job (requeued for a job moved back from the history) and, per workspace, wakes its workers (collab.notify_jobs) and its stream subscribers (collab.notify_events).';

-- >>> functions/collab.jobs_after_update.sql
-- Statement-level: one job_events row per job change (status, attempt, cancel request or
-- progress), in the same transaction, and each change checked against the state machine
-- (collab.transition_allowed) in the same pass: an illegal one aborts the statement.
-- Lease extensions by heartbeat change none of these and write no event. When it wrote
-- events, collab.notify_events wakes the workspace's stream subscribers (at most once per 50 ms a
-- session); a job that became runnable again wakes its workers (collab.notify_jobs).
create or replace function collab.jobs_after_update()
returns trigger
language plpgsql
as $$
declare
  written bigint;
begin
  insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, executor_id, data, created_at)
  select n.workspace_id, n.id, n.last_event, n.queue, n.type, n.attempt, n.executor_id,
         case n.last_event
           when 'claimed' then jsonb_build_object('lease_expires_at', n.lease_expires_at)
           when 'progress' then jsonb_build_object('progress', n.progress, 'message', n.progress_message)
           when 'retry_scheduled' then jsonb_build_object('run_at', n.run_at, 'error', n.last_error)
           when 'lease_expired' then jsonb_build_object('run_at', n.run_at)
           when 'lease_released' then jsonb_build_object('run_at', n.run_at)
           when 'dead' then jsonb_build_object('error', n.last_error)
           when 'requeued' then jsonb_build_object('run_at', n.run_at)
           else '{}'::jsonb
         end,
         collab.clock()
    from old_jobs o join new_jobs n using (id)
   where ((o.status, o.attempt, o.cancel_requested) is distinct from (n.status, n.attempt, n.cancel_requested)
          or (n.last_event = 'progress'
              and (o.progress, o.progress_message, o.last_event) is distinct from (n.progress, n.progress_message, n.last_event)))
     and case when collab.transition_allowed(o.status, n.status, n.last_event) then true
              else collab.reject_transition(n.id, o.status, n.status, n.last_event) end
   order by n.id;
  get diagnostics written = row_count;
  if written > 0 then
    perform collab.notify_events(w.workspace_id) from (select distinct n.workspace_id from new_jobs n) w;
  end if;

  if exists (select 1 from old_jobs o join new_jobs n using (id)
              where n.status = 'queued' and o.status <> 'queued' and n.run_at <= collab.clock()) then
    perform collab.notify_jobs(w.workspace_id, w.queues)
       from (select n.workspace_id, array_agg(distinct n.queue order by n.queue) as queues
               from old_jobs o join new_jobs n using (id)
              where n.status = 'queued' and o.status <> 'queued' and n.run_at <= collab.clock()
              group by n.workspace_id) w;
  end if;
  return null;
end
$$;
comment on function collab.jobs_after_update() is
  'Trigger: writes one job_events row per job change (waking the workspace''s stream subscribers through collab.notify_events when it wrote any, and its workers through collab.notify_jobs when jobs became runnable) and rejects illegal transitions (PT409 illegal_transition).';

-- >>> functions/collab.lease_lost.sql
-- Why a fenced call (complete, fail, progress) found no running job under that token:
-- PT404 job_not_found when the job is not in the workspace (neither in collab.jobs nor in
-- collab.job_history), else PT409 lease_lost.
create or replace function collab.lease_lost(job_id bigint, workspace_id uuid)
returns void
language plpgsql
volatile
as $$
declare
  st collab.job_status;
begin
  select j.status into st from collab.jobs j
   where j.id = lease_lost.job_id and j.workspace_id = lease_lost.workspace_id;
  if not found then
    select h.status into st from collab.job_history h
     where h.workspace_id = lease_lost.workspace_id and h.id = lease_lost.job_id;
  end if;
  if not found then
    perform collab.raise_error('PT404', 'job_not_found', format('job %s not found', lease_lost.job_id),
      'job_id', null, jsonb_build_object('job_id', lease_lost.job_id));
  end if;
  perform collab.raise_error('PT409', 'lease_lost',
    format('lease lost for job %s: the token is not the current lease (job is %s)', lease_lost.job_id, st),
    'lease_token', 'stop working on this job; its result is discarded',
    jsonb_build_object('job_id', lease_lost.job_id, 'status', st));
end
$$;
comment on function collab.lease_lost(bigint, uuid) is
  'Raises PT404 job_not_found or PT409 lease_lost for a fenced call that matched nothing.';

-- >>> functions/collab.list_jobs_query.sql
-- The statement api.list_jobs runs for a combination of filters ($1 workspace, $2 status,
-- $3 type, $4 queue, $5 executor_id, $6 created_after, $7 created_before, $8/$9 the cursor,
-- $10 limit), newest first. One function so that tests/sql/520 can EXPLAIN exactly what runs.
-- A job lives in collab.jobs (queued, running) or in collab.job_history (finished). Each
-- branch reads one table with the filters, in (created_at, id) order, to the limit, and the
-- branches are merged, so the keyset cursor spans both. Without a status filter there is one
-- branch per status (queued, running; succeeded, cancelled, dead): each is a range of the
-- table's (workspace_id, status, created_at, id) index, so neither table needs an index on
-- (workspace_id, created_at, id) that every enqueue, claim and finish would write.
create or replace function collab.list_jobs_query(
  by_status boolean, by_type boolean, by_queue boolean, by_executor boolean,
  by_created_after boolean, by_created_before boolean, by_cursor boolean
)
returns text
language plpgsql
immutable
as $$
declare
  filters text := 'j.workspace_id = $1';
  branches text[];
begin
  if by_type then filters := filters || ' and j.type = $3'; end if;
  if by_queue then filters := filters || ' and j.queue = $4'; end if;
  if by_executor then filters := filters || ' and j.executor_id = $5'; end if;
  if by_created_after then filters := filters || ' and j.created_at >= $6'; end if;
  if by_created_before then filters := filters || ' and j.created_at < $7'; end if;
  if by_cursor then filters := filters || ' and (j.created_at, j.id) < ($8, $9)'; end if;
  select array_agg(format(
           '(select %s as job, j.created_at, j.id from %s j where %s and j.status = %s order by j.created_at desc, j.id desc limit $10)',
           case when b.tbl = 'collab.jobs' then 'collab.job_row(j)' else 'collab.job_row(collab.history_job(j))' end,
           b.tbl, filters, b.status) order by b.ord)
    into branches
    from (values (1, 'collab.jobs', '''queued''::collab.job_status'),
                 (2, 'collab.jobs', '''running''::collab.job_status'),
                 (3, 'collab.job_history', '''succeeded''::collab.job_status'),
                 (4, 'collab.job_history', '''cancelled''::collab.job_status'),
                 (5, 'collab.job_history', '''dead''::collab.job_status'),
                 (6, 'collab.jobs', '$2::collab.job_status'),
                 (7, 'collab.job_history', '$2::collab.job_status')) b(ord, tbl, status)
   where (b.ord > 5) = by_status;
  return 'select r.job, translate(encode(convert_to(r.created_at::text || ''|'' || r.id, ''UTF8''), ''base64''), ''+/'', ''-_'')
       from (' || array_to_string(branches, ' union all ') || ') r
      order by r.created_at desc, r.id desc limit $10';
end
$$;
comment on function collab.list_jobs_query(boolean, boolean, boolean, boolean, boolean, boolean, boolean) is
  'The SQL text api.list_jobs executes for the given filters (parameters $1-$10): the newest page of each status (or of the status asked for) in collab.jobs and collab.job_history, merged.';

-- >>> functions/collab.may_manage.sql
-- The rank rule of add_member and remove_member in one place: a caller holding role `mine` may
-- change or remove a member holding `theirs` when theirs ranks no higher than mine, except
-- that only an owner touches another admin (an admin may change or remove themselves). A
-- one-line SQL function, so the planner inlines it into the DML that re-checks it.
create or replace function collab.may_manage(mine text, theirs text, is_self boolean)
returns boolean
language sql
immutable
parallel safe
as $$
  select collab.role_rank(theirs) <= collab.role_rank(mine)
     and not coalesce(theirs = 'admin' and mine = 'admin' and not is_self, false)
$$;
comment on function collab.may_manage(text, text, boolean) is
  'True when a caller with role mine may change or remove a member with role theirs (no higher rank; only an owner touches another admin; is_self: the member is the caller).';

-- >>> functions/collab.metrics_facts.sql
-- Counters and latency histograms per workspace, queue, job type and minute, computed from
-- the job_events (and metrics_signals) written by transactions with from_xid <= xid < to_xid
-- (to_xid null: no upper bound), optionally only one workspace, queue, and minutes from
-- `since`. Stable: it reads in its caller's snapshot. Definitions: docs/metrics.md.
--   queue wait: claimed event time - run_at in effect (the run_at of the job's previous
--               event that carries one: enqueued, retry_scheduled, lease_*, requeued);
--   run time:   succeeded | retry_scheduled | dead event time - the claimed event of the
--               same attempt;
--   end to end: succeeded | dead event time - the job's enqueued event.
create or replace function collab.metrics_facts(
  from_xid xid8,
  to_xid xid8 default null,
  workspace_id uuid default null,
  since timestamptz default null,
  queue text default null
)
returns setof collab.metrics_minutely
rows 100
language plpgsql
stable
set jit = off  -- small, frequent queries: compiling them costs more than it saves
as $fn$
begin
  -- Dynamic, so every call is planned with its actual bounds: a plan made for an unknown
  -- horizon would scan every event instead of the few above it.
  return query execute $q$
      with ev as (
        select e.id, e.workspace_id, e.job_id, e.type::text as kind, e.queue, e.job_type,
               e.attempt, e.data, e.created_at
          from collab.job_events e
         where e.xid >= $1
           and ($2 is null or e.xid < $2)
           and e.job_id is not null
           and ($3 is null or e.workspace_id = $3)
           and ($4 is null or e.created_at >= $4)
           and ($5 is null or e.queue = $5)
      ),
      facts as (
        select ev.workspace_id, ev.queue, ev.job_type, date_trunc('minute', ev.created_at) as minute,
               ev.kind, 1::bigint as n,
               ev.data -> 'error' ->> 'reason' as reason,
               case when ev.kind = 'claimed' then collab.metrics_round_ms(extract(epoch from ev.created_at - (
                 select (p.data ->> 'run_at')::timestamptz from collab.job_events p
                  where p.job_id = ev.job_id and p.id < ev.id and p.data ? 'run_at'
                  order by p.id desc limit 1))::double precision) end as queue_wait,
               case when ev.kind in ('succeeded', 'retry_scheduled', 'dead') then collab.metrics_round_ms(extract(epoch from ev.created_at - (
                 select c.created_at from collab.job_events c
                  where c.job_id = ev.job_id and c.id < ev.id and c.type = 'claimed' and c.attempt = ev.attempt
                  order by c.id desc limit 1))::double precision) end as run_time,
               case when ev.kind in ('succeeded', 'dead') then collab.metrics_round_ms(extract(epoch from ev.created_at - (
                 select s.created_at from collab.job_events s
                  where s.job_id = ev.job_id and s.type = 'enqueued'
                  order by s.id limit 1))::double precision) end as end_to_end
          from ev
        union all
        select s.workspace_id, s.queue, s.job_type, date_trunc('minute', s.created_at), s.kind, s.count,
               null, null, null, null
          from collab.metrics_signals s
         where s.xid >= $1
           and ($2 is null or s.xid < $2)
           and ($3 is null or s.workspace_id = $3)
           and ($4 is null or s.created_at >= $4)
           and ($5 is null or s.queue = $5)
      )
      select f.workspace_id, f.queue, f.job_type, f.minute,
             coalesce(sum(f.n) filter (where f.kind = 'enqueued'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'claimed'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'claim_conflict'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'lease_expired'
                                          or (f.kind = 'dead' and f.reason = 'lease_expired')), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'lease_released'
                                          or (f.kind = 'dead' and f.reason = 'lease_released')), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'retry_scheduled'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind in ('retry_scheduled', 'lease_expired', 'lease_released', 'dead')), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'dead'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'succeeded'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'cancelled'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'requeued'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'idempotent_duplicate'), 0)::bigint,
             coalesce(sum(f.n) filter (where f.kind = 'fencing_rejection'), 0)::bigint,
             coalesce((select jsonb_object_agg(h.v, h.c) from (
                         select v, count(*) as c from unnest(array_agg(f.queue_wait)) v
                          where v is not null group by v) h), '{}'::jsonb),
             coalesce((select jsonb_object_agg(h.v, h.c) from (
                         select v, count(*) as c from unnest(array_agg(f.run_time)) v
                          where v is not null group by v) h), '{}'::jsonb),
             coalesce((select jsonb_object_agg(h.v, h.c) from (
                         select v, count(*) as c from unnest(array_agg(f.end_to_end)) v
                          where v is not null group by v) h), '{}'::jsonb)
        from facts f
       group by f.workspace_id, f.queue, f.job_type, f.minute
  $q$ using from_xid, to_xid, workspace_id, since, queue;
end
$fn$;
comment on function collab.metrics_facts(xid8, xid8, uuid, timestamptz, text) is
  'Per-minute metrics rows (as collab.metrics_minutely) computed from job_events and metrics_signals of transactions in [from_xid, to_xid).';

-- >>> functions/collab.metrics_label.sql
-- A Prometheus label value escaped for the text format: backslash, double quote, newline.
create or replace function collab.metrics_label(value text)
returns text
language sql
immutable
parallel safe
as $$
  select replace(replace(replace(coalesce(value, ''), E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n')
$$;
comment on function collab.metrics_label(text) is 'Escapes a Prometheus label value (backslash, double quote, newline).';

-- >>> functions/collab.metrics_latency.sql
-- One phase's latency summary from its sparse millisecond histogram: count, sum (seconds),
-- nearest-rank p50/p95/p99 (seconds, null when empty) and the cumulative Prometheus
-- buckets (le in seconds, the last one "+Inf").
create or replace function collab.metrics_latency(histogram jsonb)
returns jsonb
language sql
immutable
parallel safe
as $$
  with h as (
    select e.key::bigint as v, e.value::bigint as c
      from jsonb_each_text(coalesce(metrics_latency.histogram, '{}'::jsonb)) e
  )
  select jsonb_build_object(
    'count', (select coalesce(sum(h.c), 0)::bigint from h),
    'sum_seconds', (select (coalesce(sum(h.v * h.c), 0) / 1000.0)::double precision from h),
    'p50', collab.metrics_percentile(metrics_latency.histogram, 0.5),
    'p95', collab.metrics_percentile(metrics_latency.histogram, 0.95),
    'p99', collab.metrics_percentile(metrics_latency.histogram, 0.99),
    'buckets', (select jsonb_agg(jsonb_build_array(
                         case when b.le = 'Infinity'::numeric then '+Inf' else b.le::text end,
                         (select coalesce(sum(h.c), 0)::bigint from h where h.v <= b.le * 1000))
                       order by b.le)
                  from unnest('{0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10,30,60,300,900,3600,Infinity}'::numeric[]) b(le)))
$$;
comment on function collab.metrics_latency(jsonb) is
  'Latency summary of a sparse millisecond histogram: count, sum_seconds, p50/p95/p99 (seconds) and cumulative buckets [[le, count], ...].';

-- >>> functions/collab.metrics_merge_histograms.sql
-- The sum of two sparse histograms {"<milliseconds>": count}: counts of equal keys add up.
create or replace function collab.metrics_merge_histograms(a jsonb, b jsonb)
returns jsonb
language sql
immutable
parallel safe
as $$
  select coalesce(jsonb_object_agg(k, n), '{}'::jsonb)
    from (select e.key as k, sum(e.value::bigint) as n
            from (select * from jsonb_each_text(coalesce(a, '{}'::jsonb))
                  union all
                  select * from jsonb_each_text(coalesce(b, '{}'::jsonb))) e
           group by e.key) s
$$;
comment on function collab.metrics_merge_histograms(jsonb, jsonb) is
  'Adds two sparse latency histograms {"<milliseconds>": count}.';

-- >>> functions/collab.metrics_percentile.sql
-- Nearest-rank percentile of a sparse histogram {"<milliseconds>": count}: the smallest
-- value whose cumulative count reaches ceil(p * total) (what percentile_disc returns on the
-- raw values). In seconds; null for an empty histogram.
create or replace function collab.metrics_percentile(histogram jsonb, p numeric)
returns double precision
language sql
immutable
parallel safe
as $$
  select x.v / 1000.0
    from (select h.key::bigint as v,
                 sum(h.value::bigint) over (order by h.key::bigint) as cumulative,
                 sum(h.value::bigint) over () as total
            from jsonb_each_text(coalesce(histogram, '{}'::jsonb)) h) x
   where x.cumulative >= greatest(ceil(p * x.total), 1)
   order by x.v
   limit 1
$$;
comment on function collab.metrics_percentile(jsonb, numeric) is
  'Nearest-rank percentile (0 < p <= 1) of a sparse millisecond histogram, in seconds; null when empty.';

-- >>> functions/collab.metrics_rollup.sql
-- Roll up into collab.metrics_minutely every job_events (and metrics_signals) row written by
-- a transaction that has ended since the last rollup: those with horizon <= xid < the xmin
-- of the current snapshot. No transaction below that xmin can still write, so nothing is
-- missed or counted twice even when transactions commit out of order; everything at or
-- above the new horizon is read live by api.metrics_summary. One rollup at a time
-- (transaction advisory lock, skipped when taken). Returns the number of rows upserted,
-- or -1 when another rollup was running.
create or replace function collab.metrics_rollup()
returns integer
language plpgsql
volatile
set jit = off  -- small, frequent queries: compiling them costs more than it saves
as $$
declare
  from_xid xid8;
  to_xid xid8 := pg_snapshot_xmin(pg_current_snapshot());
  n integer;
begin
  if not pg_try_advisory_xact_lock(hashtextextended('collab.metrics_rollup', 0)) then
    return -1;
  end if;
  select s.horizon into from_xid from collab.metrics_rollup_state s for update;
  if from_xid is null or from_xid >= to_xid then
    return 0;
  end if;
  insert into collab.metrics_minutely as m
  select * from collab.metrics_facts(from_xid, to_xid)
  on conflict (workspace_id, queue, job_type, minute) do update set
    enqueued = m.enqueued + excluded.enqueued,
    claims = m.claims + excluded.claims,
    claim_conflicts = m.claim_conflicts + excluded.claim_conflicts,
    lease_expirations = m.lease_expirations + excluded.lease_expirations,
    lease_releases = m.lease_releases + excluded.lease_releases,
    retries = m.retries + excluded.retries,
    failed = m.failed + excluded.failed,
    dead = m.dead + excluded.dead,
    completed = m.completed + excluded.completed,
    cancelled = m.cancelled + excluded.cancelled,
    requeued = m.requeued + excluded.requeued,
    idempotent_duplicates = m.idempotent_duplicates + excluded.idempotent_duplicates,
    fencing_rejections = m.fencing_rejections + excluded.fencing_rejections,
    queue_wait_ms = collab.metrics_merge_histograms(m.queue_wait_ms, excluded.queue_wait_ms),
    run_time_ms = collab.metrics_merge_histograms(m.run_time_ms, excluded.run_time_ms),
    end_to_end_ms = collab.metrics_merge_histograms(m.end_to_end_ms, excluded.end_to_end_ms);
  get diagnostics n = row_count;
  update collab.metrics_rollup_state set horizon = to_xid, rolled_up_at = collab.clock();
  return n;
end
$$;
comment on function collab.metrics_rollup() is
  'Adds the job_events of every ended transaction since the last rollup to collab.metrics_minutely; returns rows upserted (-1: another rollup is running).';

-- >>> functions/collab.metrics_round_ms.sql
-- A latency in seconds as the whole milliseconds the metrics histograms store: exact below
-- one second, rounded to 3 significant digits above (relative error under 0.5%), never
-- negative. Null stays null. Keeps the sparse histograms small at any rate.
create or replace function collab.metrics_round_ms(seconds double precision)
returns bigint
language sql
immutable
parallel safe
as $$
  select case
    when seconds is null then null
    when seconds * 1000 < 1000 then greatest(round(seconds * 1000), 0)::bigint
    else (round(seconds * 1000 / 10 ^ (floor(log(seconds * 1000)) - 2))
          * 10 ^ (floor(log(seconds * 1000)) - 2))::bigint
  end
$$;
comment on function collab.metrics_round_ms(double precision) is
  'Seconds -> milliseconds for the metrics histograms: exact below 1 s, 3 significant digits above, never negative.';

-- >>> functions/collab.metrics_schedule_rollup.sql
-- Schedule collab.metrics_rollup() every minute with pg_cron where pg_cron can run in this
-- database (as collab.schedule_reaper does). Elsewhere the reaper (`collab reap`, api.reap)
-- rolls up; api.metrics_summary never does. Returns whether scheduled.
create or replace function collab.metrics_schedule_rollup()
returns boolean
language plpgsql
volatile
as $$
begin
  if not exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_cron')
     or coalesce(current_setting('cron.database_name', true), '') <> current_database() then
    return false;
  end if;
  execute 'create extension if not exists pg_cron with schema pg_catalog';
  execute $cron$select cron.schedule('collab-metrics-rollup', '* * * * *', 'select collab.metrics_rollup()')$cron$;
  return true;
end
$$;
comment on function collab.metrics_schedule_rollup() is
  'Schedules collab.metrics_rollup() every minute with pg_cron when it is available in this database; returns whether it did.';

-- >>> functions/collab.metrics_signal.sql
-- Record an outcome that writes no job_event (a claim conflict, an idempotent duplicate, a
-- fencing rejection that does not roll back) as one appended row: no shared counter row,
-- so concurrent callers never wait on each other. The hook for the functions where these
-- outcomes happen (docs/metrics.md says which are wired).
create or replace function collab.metrics_signal(
  kind text,
  workspace_id uuid,
  queue text,
  job_type text,
  count bigint default 1
)
returns void
language sql
volatile
as $$
  insert into collab.metrics_signals (workspace_id, kind, queue, job_type, count, created_at)
  select metrics_signal.workspace_id, metrics_signal.kind, metrics_signal.queue,
         metrics_signal.job_type, metrics_signal.count, collab.clock()
   where coalesce(metrics_signal.count, 0) > 0
$$;
comment on function collab.metrics_signal(text, uuid, text, text, bigint) is
  'Appends one metrics_signals row (claim_conflict, idempotent_duplicate, fencing_rejection) when count > 0.';

-- >>> functions/collab.metrics_unschedule_rollup.sql
-- Remove the pg_cron job of collab.metrics_schedule_rollup, if any.
create or replace function collab.metrics_unschedule_rollup()
returns void
language plpgsql
volatile
as $$
begin
  if to_regclass('cron.job') is not null then
    execute $cron$select cron.unschedule(jobid) from cron.job where jobname = 'collab-metrics-rollup'$cron$;
  end if;
end
$$;
comment on function collab.metrics_unschedule_rollup() is 'Removes the collab-metrics-rollup pg_cron job when present.';

-- >>> functions/collab.metrics_window.sql
-- Counters and latencies of one workspace over the minutes from `since` (optionally one
-- queue), per queue and job type and in total: the rolled-up minutes plus, read live, every
-- event above the rollup horizon. One statement, so one snapshot: a concurrent rollup can
-- neither hide nor double an event.
create or replace function collab.metrics_window(workspace_id uuid, since timestamptz, queue text default null)
returns jsonb
language sql
stable
set jit = off  -- small, frequent queries: compiling them costs more than it saves
as $$
  with st as (
    select (select s.horizon from collab.metrics_rollup_state s limit 1) as horizon
  ),
  r as (
    select m.* from collab.metrics_minutely m
     where m.workspace_id = metrics_window.workspace_id and m.minute >= metrics_window.since
       and (metrics_window.queue is null or m.queue = metrics_window.queue)
    union all
    select f.* from st cross join lateral
      collab.metrics_facts(st.horizon, null, metrics_window.workspace_id, metrics_window.since,
                           metrics_window.queue) f
  ),
  c as (
    select r.queue, r.job_type, grouping(r.queue, r.job_type) as total,
           jsonb_build_object(
             'enqueued', sum(r.enqueued), 'claims', sum(r.claims),
             'claim_conflicts', sum(r.claim_conflicts), 'lease_expirations', sum(r.lease_expirations),
             'lease_releases', sum(r.lease_releases), 'retries', sum(r.retries),
             'failed', sum(r.failed), 'dead', sum(r.dead), 'completed', sum(r.completed),
             'cancelled', sum(r.cancelled), 'requeued', sum(r.requeued),
             'idempotent_duplicates', sum(r.idempotent_duplicates),
             'fencing_rejections', sum(r.fencing_rejections)) as counters
      from r
     group by grouping sets ((r.queue, r.job_type), ())
  ),
  h as (
    select r.queue, r.job_type, p.phase, e.key, e.value::bigint as n
      from r
     cross join lateral (values ('queue_wait', r.queue_wait_ms), ('run_time', r.run_time_ms),
                                ('end_to_end', r.end_to_end_ms)) p(phase, histogram)
     cross join lateral jsonb_each_text(p.histogram) e
  ),
  hs as (
    select h.queue, h.job_type, grouping(h.queue, h.job_type) as total, h.phase, h.key, sum(h.n) as n
      from h
     group by grouping sets ((h.queue, h.job_type, h.phase, h.key), (h.phase, h.key))
  ),
  l as (
    select c.queue, c.job_type, c.total, c.counters,
           jsonb_build_object(
             'queue_wait', collab.metrics_latency((select jsonb_object_agg(hs.key, hs.n) from hs
                where hs.total = c.total and hs.phase = 'queue_wait'
                  and hs.queue is not distinct from c.queue and hs.job_type is not distinct from c.job_type)),
             'run_time', collab.metrics_latency((select jsonb_object_agg(hs.key, hs.n) from hs
                where hs.total = c.total and hs.phase = 'run_time'
                  and hs.queue is not distinct from c.queue and hs.job_type is not distinct from c.job_type)),
             'end_to_end', collab.metrics_latency((select jsonb_object_agg(hs.key, hs.n) from hs
                where hs.total = c.total and hs.phase = 'end_to_end'
                  and hs.queue is not distinct from c.queue and hs.job_type is not distinct from c.job_type))
           ) as latency
      from c
  )
  select jsonb_build_object(
    'totals', coalesce(
      (select jsonb_build_object('counters', l.counters, 'latency', l.latency) from l where l.total = 3 and exists (select 1 from r)),
      jsonb_build_object(
        'counters', jsonb_build_object('enqueued', 0, 'claims', 0, 'claim_conflicts', 0,
          'lease_expirations', 0, 'lease_releases', 0, 'retries', 0, 'failed', 0, 'dead', 0,
          'completed', 0, 'cancelled', 0, 'requeued', 0, 'idempotent_duplicates', 0,
          'fencing_rejections', 0),
        'latency', jsonb_build_object('queue_wait', collab.metrics_latency('{}'),
          'run_time', collab.metrics_latency('{}'), 'end_to_end', collab.metrics_latency('{}')))),
    'by_queue_type', coalesce(
      (select jsonb_agg(jsonb_build_object('queue', l.queue, 'type', l.job_type,
                                           'counters', l.counters, 'latency', l.latency)
                        order by l.queue, l.job_type)
         from l where l.total = 0), '[]'::jsonb))
$$;
comment on function collab.metrics_window(uuid, timestamptz, text) is
  'Counters and phase latencies of a workspace since a minute, per queue and job type and in total (rollups plus live events).';

-- >>> functions/collab.notify_events.sql
-- Wakes the stream subscribers of a workspace (`LISTEN "collab_events:<workspace_id>"`, empty
-- payload), at most once per 50 ms per session and workspace. A notifying transaction takes a
-- cluster-wide lock at commit that serialises it with every other notifying commit, so the
-- hot paths (claim, complete) must not notify on every transaction. Subscribers keep reading
-- for a moment after each wake-up (and poll anyway), so a wake-up skipped here delays nothing
-- but a commit that comes more than that moment after its statement; see docs/realtime.md.
-- The channel and the throttle are per workspace: a tenant learns nothing of another's
-- activity, and on a pooled connection (PostgREST, a transaction pooler) one tenant's call
-- never silences another's wake-up (security review, finding 8 and the pooler note).
create or replace function collab.notify_events(workspace_id uuid)
returns void
language plpgsql
volatile
as $$
declare
  stamp text := 'collab.events_notified_' || replace(notify_events.workspace_id::text, '-', '');
  last_notified text := current_setting(stamp, true);
begin
  if last_notified is null or last_notified = ''
     or clock_timestamp() - last_notified::timestamptz > interval '50 milliseconds' then
    perform pg_notify('collab_events:' || notify_events.workspace_id::text, '');
    perform set_config(stamp, clock_timestamp()::text, false);
  end if;
end
$$;
comment on function collab.notify_events(uuid) is
  'Notifies "collab_events:<workspace_id>" (empty payload) unless this session did for that workspace within the last 50 ms.';

-- >>> functions/collab.notify_jobs.sql
-- Wakes the workers of one workspace: one notification on `collab_jobs:<workspace_id>` whose
-- payload lists the queues (comma-separated, sorted) that just got runnable jobs, or is empty
-- when that list would not fit a notification (then: any queue). The triggers call it once
-- per workspace per statement, so a batch of 10,000 jobs over 10,000 queues is one wake-up,
-- and no tenant hears another's queue names (security review, finding 8).
create or replace function collab.notify_jobs(workspace_id uuid, queues text[])
returns void
language sql
volatile
as $$
  select pg_notify('collab_jobs:' || notify_jobs.workspace_id::text,
                   case when octet_length(l.queues) <= 7000 then l.queues else '' end)
    from (select array_to_string(notify_jobs.queues, ',') as queues) l
$$;
comment on function collab.notify_jobs(uuid, text[]) is
  'Notifies "collab_jobs:<workspace_id>" with the comma-separated queues that got runnable jobs (empty: too many to list, any queue).';

-- >>> functions/collab.purge_events.sql
-- Retention of the event stream without blocking writers: deletes at most batch_size of the
-- oldest events (in stream order, (xid, id)) created before now - older_than. Only a prefix of
-- the stream is ever deleted, and only below the metrics rollup horizon (events not yet rolled
-- up are kept), and the newest event is always kept, so that api.events_since can tell an
-- expired cursor (its event is gone and it lies before the oldest event kept) from a live
-- one. Plain DELETEs of old rows take no lock a writer waits for; call it in a loop (each
-- call its own transaction) until it returns 0.
create or replace function collab.purge_events(older_than interval, batch_size integer default 10000)
returns bigint
language plpgsql
volatile
as $$
declare
  cutoff timestamptz;
  horizon xid8;
  newest record;
  deleted bigint;
begin
  if purge_events.older_than is null or purge_events.older_than < interval '0' then
    perform collab.raise_error('PT400', 'invalid_input', 'older_than must be a non-negative interval', 'older_than');
  end if;
  -- Bounded above too: now - older_than must stay a timestamp (else 22008, an internal error).
  if purge_events.older_than > interval '1000 years' then
    perform collab.raise_error('PT400', 'invalid_input', 'older_than must be at most 1000 years', 'older_than');
  end if;
  if purge_events.batch_size is null or purge_events.batch_size not between 1 and 1000000 then
    perform collab.raise_error('PT400', 'invalid_input', 'batch_size must be between 1 and 1000000', 'batch_size');
  end if;
  cutoff := collab.clock() - purge_events.older_than;
  select s.horizon into horizon from collab.metrics_rollup_state s;
  select e.xid, e.id into newest from collab.job_events e order by e.xid desc, e.id desc limit 1;
  if newest is null then
    return 0;
  end if;
  with candidates as (
    select e.xid, e.id, e.created_at from collab.job_events e
     where e.xid < coalesce(horizon, '0'::xid8)
       and (e.xid, e.id) < (newest.xid, newest.id)
     order by e.xid, e.id
     limit purge_events.batch_size
  ), stop as (
    -- The stream prefix ends at the first event still young enough to keep.
    select c.xid, c.id from candidates c where c.created_at >= cutoff order by c.xid, c.id limit 1
  ), gone as (
    delete from collab.job_events e
     using candidates c
     where e.id = c.id
       and not exists (select 1 from stop s where (c.xid, c.id) >= (s.xid, s.id))
    returning 1
  )
  select count(*) into deleted from gone;
  return deleted;
end
$$;
comment on function collab.purge_events(interval, integer) is
  'Deletes up to batch_size of the oldest job_events (a prefix of the stream, created before now - older_than, already rolled up into metrics, never the newest). Returns how many; call until 0.';

-- >>> functions/collab.purge_job_history.sql
-- Retention of finished jobs: drops every partition of collab.job_history whose whole range
-- ended older_than ago or earlier (nothing newer: a partition still holding a younger job is
-- kept whole), and deletes the rows of the default partition finished before then. The
-- idempotency keys of those jobs go first, so each key still names a stored job; events of
-- those jobs that event retention (collab.purge_events) has not removed yet go too, so no
-- event is left without its job. Dropping a partition locks the parent for a moment
-- (lock_timeout 1 s: when busy, 55P03 lock_not_available and nothing is removed; call
-- again). Returns how many jobs were removed. For operators (psql, pg_cron; see
-- docs/runbook.md): not granted to any API role.
create or replace function collab.purge_job_history(older_than interval)
returns bigint
language plpgsql
volatile
as $$
declare
  cutoff timestamptz;
  doomed regclass[];
  part regclass;
  n bigint;
  removed bigint := 0;
  old_lock_timeout text := current_setting('lock_timeout');
begin
  if older_than is null or older_than < interval '1 day' or older_than > interval '1000 years' then
    perform collab.raise_error('PT400', 'invalid_input', 'older_than must be between 1 day and 1000 years', 'older_than');
  end if;
  cutoff := collab.clock() - older_than;
  doomed := array(select x.partition from collab.job_history_partitions() x
                   where x.to_at is not null and x.to_at <= cutoff);
  -- First, with writes into those partitions held off (requeue, purge_dead), their keys and
  -- events: the moves into the history (other partitions) go on meanwhile.
  foreach part in array doomed loop
    execute format('lock table %s in share mode', part);
    execute format('delete from collab.idempotency_keys k using %s h
                     where k.workspace_id = h.workspace_id and k.key = h.idempotency_key and k.job_id = h.id',
                   part);
    if exists (select 1 from collab.job_events e
                where e.created_at < (select x.to_at from collab.job_history_partitions() x where x.partition = part)
                  and e.job_id is not null) then
      execute format('delete from collab.job_events e using %s h where e.job_id = h.id', part);
    end if;
    execute format('select count(*) from %s', part) into n;
    removed := removed + n;
  end loop;
  -- Then the drops, under the parent's lock for a moment.
  perform set_config('lock_timeout', '1s', true);
  lock table only collab.job_history in access exclusive mode;
  perform set_config('lock_timeout', old_lock_timeout, true);
  foreach part in array doomed loop
    execute format('drop table %s', part);
  end loop;
  with gone as (
    delete from collab.job_history_default h where h.finished_at < cutoff
    returning h.workspace_id, h.id, h.idempotency_key
  ),
  keys as (
    delete from collab.idempotency_keys k using gone
     where k.workspace_id = gone.workspace_id and k.key = gone.idempotency_key and k.job_id = gone.id
  ),
  events as (
    delete from collab.job_events e using gone where e.job_id = gone.id
  )
  select removed + count(*) into removed from gone;
  return removed;
end
$$;
comment on function collab.purge_job_history(interval) is
  'Retention: drops the partitions of collab.job_history that ended older_than (1 day - 1000 years) ago, and the older rows of its default partition, with the idempotency keys and remaining events of those jobs. Returns how many jobs it removed.';

-- >>> functions/collab.queue_row.sql
-- A queue as the api returns it.
-- No SET clause, so the planner can inline it (names are schema-qualified).
create or replace function collab.queue_row(q collab.queues)
returns api.queue
language sql
immutable
parallel safe
as $$
  select row(q.name, q.paused, q.concurrency_limit, q.lease_seconds, q.max_attempts,
             q.backoff_base_seconds, q.backoff_max_seconds, q.backoff_jitter, q.created_at)::api.queue
$$;
comment on function collab.queue_row(collab.queues) is 'Converts a collab.queues row to api.queue.';

-- >>> functions/collab.raise_error.sql
-- Raise a client error with a stable SQLSTATE (PTxxx -> HTTP status through PostgREST) and
-- a machine-readable DETAIL: {"reason": ..., "field": ...} plus any extra keys.
-- Through PostgREST (a request of its login role `authenticator`), a PT429 is raised instead
-- as SQLSTATE 'PGRST' with the same code, message, details and hint plus a `Retry-After`
-- header (whole seconds: ceil(retry_after), 1 when the DETAIL has none): PostgREST (12 to 14)
-- applies that status and header itself, so a 429 carries Retry-After on a real Supabase
-- project too, with no gateway of ours. Everywhere else (psql, the Python client, pgTAP) it
-- is the plain PTxxx error.
create or replace function collab.raise_error(
  code text,
  reason text,
  message text,
  field text default null,
  hint text default null,
  extra jsonb default '{}'
)
returns void
language plpgsql
volatile
as $$
declare
  details text := (jsonb_build_object('reason', raise_error.reason, 'field', raise_error.field)
                   || coalesce(raise_error.extra, '{}'::jsonb))::text;
  -- PostgREST 12 sends a PTxxx message as the HTTP reason phrase: a control character that a
  -- caller put in a name (CR LF: response splitting) must never reach the status line.
  safe_message text := pg_catalog.regexp_replace(raise_error.message, '[[:cntrl:]]', '?', 'g');
begin
  if raise_error.code = 'PT429' and session_user = 'authenticator'
     and coalesce(pg_catalog.current_setting('request.method', true), '') <> '' then
    raise sqlstate 'PGRST' using
      message = jsonb_build_object('code', raise_error.code, 'message', safe_message,
                                   'details', details, 'hint', raise_error.hint)::text,
      detail = jsonb_build_object('status', 429, 'headers', jsonb_build_object('Retry-After',
                 greatest(1, ceil(coalesce((raise_error.extra ->> 'retry_after')::numeric, 1)))::bigint::text))::text;
  end if;
  raise exception using
    errcode = raise_error.code,
    message = safe_message,
    detail = details,
    hint = coalesce(raise_error.hint, '');
end
$$;
comment on function collab.raise_error(text, text, text, text, text, jsonb) is
  'Raises an error with a stable SQLSTATE and a JSON DETAIL {"reason","field",...}; see docs/errors.md.';

-- >>> functions/collab.reap.sql
-- Periodic housekeeping (pg_cron every minute where installed; `collab reap` otherwise):
-- expires overdue leases everywhere, marks executors silent for 3 heartbeat intervals
-- offline (an `executor_offline` event each) and releases their leases at once
-- (`lease_released`), rolls the metrics up (collab.metrics_rollup: api.metrics_summary
-- only reads), and last counts the stored jobs of the workspaces that could be at their
-- stored_jobs limit (collab.count_stored_jobs, bounded index-only counts): enqueue refuses
-- while a count finds a workspace at it, and accepts again at the first reap after purges
-- bring it under, so the limit is overshot by at most what a workspace enqueues between two
-- reaps. Invitations that expired over a week ago are deleted, and a week of day partitions
-- of collab.job_history is kept ahead (collab.ensure_job_history_partitions). Claims never
-- depend on it.
create or replace function collab.reap()
returns jsonb
language plpgsql
volatile
as $$
declare
  now_ timestamptz := collab.clock();
  expired integer := 0;
  n integer;
  gone uuid[];
  held bigint[];
  ex collab.executors;
begin
  loop
    n := collab.expire_leases(null, null, 1000);
    expired := expired + n;
    exit when n < 1000;
  end loop;

  for ex in
    update collab.executors e set online = false
     where e.online and e.last_seen_at < now_ - make_interval(secs => 3 * e.heartbeat_seconds)
    returning e.*
  loop
    perform collab.record_presence(ex, 'executor_offline');
    gone := array_append(gone, ex.id);
  end loop;

  if gone is not null then
    select array_agg(j.id) into held from (
      select j.id from collab.jobs j
       where j.executor_id = any(gone) and j.status = 'running'
       for update skip locked) j;
    if held is not null then
      perform collab.release_jobs(held, 'lease_released');
    end if;
  end if;
  -- The metrics rollup runs here (and from its own pg_cron job), never in a reader's call.
  perform collab.metrics_rollup();
  -- A week of history partitions ahead (moves never wait for one: the default takes rows).
  perform collab.ensure_job_history_partitions(7);
  -- Invitations expired a week ago: refused since (PT410), now forgotten.
  delete from collab.invitations i where i.expires_at < now_ - interval '7 days';
  -- Last: the workspace rows it updates stay locked only until the reap commits.
  perform collab.count_stored_jobs();
  return jsonb_build_object('expired', expired, 'offline', coalesce(cardinality(gone), 0),
                            'released', coalesce(cardinality(held), 0));
end
$$;
comment on function collab.reap() is
  'Expires overdue leases, marks silent executors offline and releases their jobs, then rolls the metrics up and counts stored jobs against the stored_jobs limit (collab.count_stored_jobs). Returns the counts.';

-- >>> functions/collab.record_presence.sql
-- Writes one presence event (executor_online or executor_offline) into the stream, in the
-- caller's transaction, so the event exists if and only if the presence change committed;
-- wakes the workspace's stream subscribers (collab.notify_events). Presence events have no job (job_id null).
create or replace function collab.record_presence(executor collab.executors, type collab.job_event_type)
returns void
language plpgsql
volatile
as $$
begin
  if record_presence.type not in ('executor_online', 'executor_offline') then
    perform collab.raise_error('PT400', 'invalid_input', 'type must be executor_online or executor_offline', 'type');
  end if;
  insert into collab.job_events (workspace_id, job_id, type, executor_id, data, created_at)
  values ((record_presence.executor).workspace_id, null, record_presence.type,
          (record_presence.executor).id,
          jsonb_build_object('name', (record_presence.executor).name,
                             'queues', to_jsonb((record_presence.executor).queues),
                             'heartbeat_seconds', (record_presence.executor).heartbeat_seconds,
                             'last_seen_at', (record_presence.executor).last_seen_at),
          collab.clock());
  perform collab.notify_events((record_presence.executor).workspace_id);
end
$$;
comment on function collab.record_presence(collab.executors, collab.job_event_type) is
  'Writes an executor_online / executor_offline event for the executor (job_id null) and wakes the workspace''s stream subscribers.';

-- >>> functions/collab.reject_transition.sql
-- Raises PT409 illegal_transition for a job change the state machine forbids.
create or replace function collab.reject_transition(
  job_id bigint,
  from_status collab.job_status,
  to_status collab.job_status,
  event collab.job_event_type
)
returns boolean
language plpgsql
volatile
as $$
begin
  perform collab.raise_error('PT409', 'illegal_transition',
    format('job %s cannot go from %s to %s (%s)', job_id, from_status, to_status, event),
    'status', 'the job changed meanwhile: read it again',
    jsonb_build_object('job_id', job_id, 'from', from_status, 'to', to_status, 'event', event));
  return false;
end
$$;
comment on function collab.reject_transition(bigint, collab.job_status, collab.job_status, collab.job_event_type) is
  'Raises PT409 illegal_transition naming the job and the refused change.';

-- >>> functions/collab.release_jobs.sql
-- Take running jobs away from their executor without a result: an expired lease
-- (`lease_expired`) or an executor gone offline (`lease_released`). The attempt counts as
-- failed: back to queued after a backoff while attempts remain, else dead; a job with a
-- pending cancel is cancelled instead. Dead and cancelled jobs move to collab.job_history
-- (one statement; collab.job_history_after_insert writes their events), the others are
-- updated in place. The callers hold the rows locked (FOR UPDATE), so the two statements
-- judge each job as it is.
-- "Running" is tested as lease_expires_at is not null (the same thing: CHECK
-- jobs_lease_iff_running). Written as status = 'running', the generic plan may take
-- jobs_list_status_idx or a partial running index and walk every running job of the workspace
-- to find this one (tests/sql/530); this way only the primary key can serve the lookup.
create or replace function collab.release_jobs(job_ids bigint[], why collab.job_event_type)
returns void
language sql
volatile
as $$
  with moved as (
    delete from collab.jobs j
     where j.id = any(job_ids) and j.lease_expires_at is not null
       and (j.cancel_requested or j.attempt >= j.max_attempts)
    returning j.*
  )
  insert into collab.job_history
  select m.id, m.workspace_id, m.queue, m.type, m.payload, m.priority,
         case when m.cancel_requested then 'cancelled' else 'dead' end::collab.job_status,
         case when m.cancel_requested then 'cancelled' else 'dead' end::collab.job_event_type,
         m.run_at, m.attempt, m.max_attempts, m.idempotency_key, m.executor_id, m.lease_token,
         m.lease_seconds, null, m.cancel_requested, m.progress, m.progress_message, m.result,
         case when m.cancel_requested then m.last_error
              else jsonb_build_object('reason', why::text, 'attempt', m.attempt,
                                      'executor_id', m.executor_id, 'at', collab.clock()) end,
         m.created_at, m.claimed_at, collab.clock()
    from moved m;

  update collab.jobs j set
    status = 'queued',
    last_event = why,
    run_at = collab.clock() + collab.backoff_delay(j.attempt, q.backoff_base_seconds,
                                                   q.backoff_max_seconds, q.backoff_jitter),
    lease_expires_at = null,
    last_error = jsonb_build_object('reason', why::text, 'attempt', j.attempt,
                                    'executor_id', j.executor_id, 'at', collab.clock())
  from collab.queues q
  where j.id = any(job_ids) and j.lease_expires_at is not null
    and not j.cancel_requested and j.attempt < j.max_attempts
    and q.workspace_id = j.workspace_id and q.name = j.queue
$$;
comment on function collab.release_jobs(bigint[], collab.job_event_type) is
  'Ends the attempt of running jobs without a result (lease_expired or lease_released): retry, or dead or cancelled (moved to collab.job_history).';

-- >>> functions/collab.require_another_owner.sql
-- A workspace that has an owner keeps one: before `leaving` stops being an owner of `ws`
-- (demoted, removed, leaving), raise PT409 last_owner when they are its only owner.
-- The owner rows are locked (in user_id order, so concurrent callers queue instead of
-- deadlocking) before they are counted: of two concurrent transactions taking the last two
-- owners away, the second waits for the first, then counts without the row the first changed
-- (re-checked after the wait) and is refused. Callers take no other member row lock before
-- this one. A user who is not (or no longer) an owner passes.
create or replace function collab.require_another_owner(ws uuid, leaving uuid)
returns void
language plpgsql
volatile
as $$
declare
  is_owner boolean;
  others integer;
begin
  select coalesce(bool_or(o.user_id = require_another_owner.leaving), false),
         count(*) filter (where o.user_id <> require_another_owner.leaving)
    into is_owner, others
    from (select m.user_id from collab.members m
           where m.workspace_id = require_another_owner.ws and m.role = 'owner'
           order by m.user_id
             for update) o;
  if is_owner and others = 0 then
    perform collab.raise_error('PT409', 'last_owner',
      format('user %s is the last owner of workspace %s, which would be left without one',
             require_another_owner.leaving, require_another_owner.ws),
      'user_id', 'make another member an owner first (api.add_member with role owner)',
      jsonb_build_object('workspace_id', require_another_owner.ws));
  end if;
end
$$;
comment on function collab.require_another_owner(uuid, uuid) is
  'PT409 last_owner when leaving is the only owner of workspace ws; locks the owner rows first, so concurrent demotions, removals and leaves of the last owners serialize.';

-- >>> functions/collab.require_executor.sql
-- The executor a call acts as: it must exist in the caller's workspace and, for a signed-in
-- user, be theirs (executors.user_id = collab.caller_id()): an executor acts only as itself.
create or replace function collab.require_executor(executor_id uuid, workspace_id uuid)
returns collab.executors
language plpgsql
stable
as $$
declare
  ex collab.executors;
begin
  if require_executor.executor_id is null then
    perform collab.raise_error('PT400', 'invalid_input', 'executor_id is required', 'executor_id');
  end if;
  select * into ex from collab.executors e
   where e.id = require_executor.executor_id and e.workspace_id = require_executor.workspace_id;
  if not found then
    perform collab.raise_error('PT404', 'executor_not_found',
      format('executor %s not found', require_executor.executor_id), 'executor_id',
      'register with api.register_executor first');
  end if;
  if ex.user_id is distinct from collab.caller_id() and not collab.is_service_caller() then
    perform collab.raise_error('PT403', 'forbidden',
      format('executor %s belongs to another user', require_executor.executor_id), 'executor_id',
      'use the executor id api.register_executor returned to you',
      jsonb_build_object('required_role', 'executor'));
  end if;
  return ex;
end
$$;
comment on function collab.require_executor(uuid, uuid) is
  'Returns the executor if it belongs to the workspace (else PT404 executor_not_found) and, for a signed-in user, to that user (else PT403 forbidden).';

-- >>> functions/collab.require_job_owner.sql
-- Jobs reported on by lease token (complete, fail, progress, complete_batch) must be held by
-- one of the caller's own executors: a signed-in user can never settle another executor's
-- work, even holding its token. Unknown ids and jobs without an executor pass through, so the
-- caller raises its usual job_not_found / lease_lost. Service callers are not checked.
create or replace function collab.require_job_owner(job_ids bigint[], workspace_id uuid)
returns void
language plpgsql
stable
as $$
declare
  other bigint;
  live integer;
begin
  if collab.is_service_caller() or require_job_owner.job_ids is null then
    return;
  end if;
  select min(j.id) filter (where e.id is not null and e.user_id is distinct from collab.caller_id()),
         count(distinct j.id)
    into other, live
    from collab.jobs j left join collab.executors e on e.id = j.executor_id
   where j.id = any (require_job_owner.job_ids)
     and j.workspace_id = require_job_owner.workspace_id;
  -- Ids not in the hot table (a repeat after the job finished) are looked for in the history;
  -- the common call, on live jobs only, never reads it.
  if other is null and live < cardinality(array(select distinct unnest(require_job_owner.job_ids))) then
    select h.id into other
      from collab.job_history h join collab.executors e on e.id = h.executor_id
     where h.workspace_id = require_job_owner.workspace_id
       and h.id = any (require_job_owner.job_ids)
       and e.user_id is distinct from collab.caller_id()
     limit 1;
  end if;
  if other is not null then
    perform collab.raise_error('PT403', 'forbidden',
      format('job %s is held by another user''s executor', other), 'job_id',
      'only the executor holding a job may report on it',
      jsonb_build_object('required_role', 'executor', 'job_id', other));
  end if;
end
$$;
comment on function collab.require_job_owner(bigint[], uuid) is
  'Raises PT403 forbidden when a signed-in user reports on a job held by an executor that is not theirs.';

-- >>> functions/collab.require_role.sql
-- The first line of every api function: the caller's workspace (collab.current_workspace()),
-- provided the caller holds at least role `min` there (viewer < member < admin < owner).
-- Service callers hold every role. Otherwise PT403 forbidden, DETAIL naming required_role.
create or replace function collab.require_role(min text)
returns uuid
language plpgsql
stable
as $$
declare
  ws uuid := collab.current_workspace();
  held text;
begin
  if collab.is_service_caller() then
    return ws;
  end if;
  select m.role into held from collab.members m
   where m.workspace_id = ws and m.user_id = collab.caller_id();
  if collab.role_rank(held) < collab.role_rank(require_role.min) then
    perform collab.raise_error('PT403', 'forbidden',
      format('this call needs the %s role in workspace %s (you are %s)',
             require_role.min, ws, coalesce(held, 'not a member')),
      null, 'ask an admin of the workspace for that role',
      jsonb_build_object('required_role', require_role.min, 'role', held));
  end if;
  return ws;
end
$$;
comment on function collab.require_role(text) is
  'Returns the caller''s workspace if the caller holds at least the given role there (service callers hold all), else raises PT403 forbidden with required_role in DETAIL.';

-- >>> functions/collab.require_user.sql
-- The signed-in caller's user id (collab.caller_id), or PT403 forbidden for anon and for a
-- caller without a `sub` claim. `what` names the call in the message ("this call",
-- "accepting an invitation"); required_role goes to the DETAIL.
create or replace function collab.require_user(what text, required_role text default 'authenticated')
returns uuid
language plpgsql
stable
as $$
declare
  uid uuid := collab.caller_id();
begin
  if uid is null or coalesce(current_setting('role', true), 'none') = 'anon' then
    perform collab.raise_error('PT403', 'forbidden',
      format('%s needs a signed-in user (a JWT with a sub claim)', require_user.what), null,
      'sign in and send the access token as Authorization: Bearer <jwt>',
      jsonb_build_object('required_role', require_user.required_role));
  end if;
  return uid;
end
$$;
comment on function collab.require_user(text, text) is
  'The caller''s user id; PT403 forbidden (required_role in DETAIL) for anon or a caller without a sub claim.';

-- >>> functions/collab.role_rank.sql
-- Roles in a workspace, weakest first: viewer < member < admin < owner (0 for none).
create or replace function collab.role_rank(role text)
returns integer
language sql
immutable
parallel safe
as $$
  select case role_rank.role when 'viewer' then 1 when 'member' then 2
                             when 'admin' then 3 when 'owner' then 4 else 0 end
$$;
comment on function collab.role_rank(text) is 'Rank of a workspace role: viewer 1, member 2, admin 3, owner 4, anything else 0.';

-- >>> functions/collab.schedule_reaper.sql
-- Schedule collab.reap() with pg_cron every minute where pg_cron can run in this database
-- (installed, and this is its cron.database_name). Elsewhere it does nothing: claims reclaim
-- expired leases themselves and `collab reap` runs it on demand. Returns whether scheduled.
create or replace function collab.schedule_reaper()
returns boolean
language plpgsql
volatile
as $$
begin
  if not exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_cron')
     or coalesce(current_setting('cron.database_name', true), '') <> current_database() then
    return false;
  end if;
  execute 'create extension if not exists pg_cron with schema pg_catalog';
  execute $cron$select cron.schedule('collab-reap', '* * * * *', 'select collab.reap()')$cron$;
  return true;
end
$$;
comment on function collab.schedule_reaper() is
  'Schedules collab.reap() every minute with pg_cron when it is available in this database; returns whether it did.';

-- >>> functions/collab.stored_job.sql
-- A job of the workspace wherever it lives: collab.jobs (by primary key) or, only when it is
-- not there, collab.job_history (every partition's primary key); null when neither holds it.
-- One snapshot reads both, so a job moving meanwhile is seen in exactly one of them.
-- No SET clause, so the planner can inline it (names are schema-qualified); the history is
-- read lazily (COALESCE stops at the first non-null).
create or replace function collab.stored_job(workspace_id uuid, job_id bigint)
returns collab.jobs
language sql
stable
as $$
  select coalesce(
    (select j from collab.jobs j
      where j.id = stored_job.job_id and j.workspace_id = stored_job.workspace_id),
    (select collab.history_job(h) from collab.job_history h
      where h.workspace_id = stored_job.workspace_id and h.id = stored_job.job_id))
$$;
comment on function collab.stored_job(uuid, bigint) is
  'The job (as a collab.jobs row) from collab.jobs or else collab.job_history; null when the workspace has no such job.';

-- >>> functions/collab.take_tokens.sql
-- Token bucket: take `cost` tokens for `action` from each limit configured for the workspace
-- (scope workspace: the fullest of its `shards` rows that no other transaction holds; scope
-- executor: the executor's own row). The refill (collab.bucket_tokens) is computed on the row itself, so concurrent
-- callers of one bucket serialize on that row only. Short of tokens: PT429 rate_limited with
-- retry_after (seconds, at most a day: a batch dearer than the burst never fits) in DETAIL; the refused call rolls back, so it consumes nothing.
-- Without a configured limit this is one primary-key probe of collab.rate_limits.
create or replace function collab.take_tokens(workspace_id uuid, action text, executor_id uuid, cost double precision)
returns void
language plpgsql
volatile
as $$
declare
  lim record;
  now_ timestamptz := collab.clock();
  left_ double precision;
  subject_ text;
  shard_ integer;
begin
  for lim in
    select l.* from collab.rate_limits l
     where l.workspace_id = take_tokens.workspace_id and l.action = take_tokens.action
  loop
    left_ := null;
    if lim.scope = 'executor' then
      continue when take_tokens.executor_id is null;
      subject_ := take_tokens.executor_id::text;
      shard_ := 0;
      -- The executor's own row: one UPDATE (the row exists after the first call).
      update collab.rate_buckets b
         set tokens = collab.bucket_tokens(b.tokens, b.refreshed_at, now_, lim.rate_per_second / lim.shards,
                                         lim.burst / lim.shards) - take_tokens.cost,
             refreshed_at = greatest(b.refreshed_at, now_)
       where b.workspace_id = take_tokens.workspace_id and b.action = take_tokens.action
         and b.subject = subject_ and b.shard = 0
      returning b.tokens into left_;
    else
      subject_ := '';
      -- The fullest shard no other transaction holds, taken and updated in one statement, so
      -- concurrent callers never queue on one row (a shared row would serialize commits).
      update collab.rate_buckets b
         set tokens = collab.bucket_tokens(b.tokens, b.refreshed_at, now_, lim.rate_per_second / lim.shards,
                                         lim.burst / lim.shards) - take_tokens.cost,
             refreshed_at = greatest(b.refreshed_at, now_)
       where (b.workspace_id, b.action, b.subject, b.shard) = (
               select f.workspace_id, f.action, f.subject, f.shard from collab.rate_buckets f
                where f.workspace_id = take_tokens.workspace_id and f.action = take_tokens.action
                  and f.subject = '' and f.shard < lim.shards
                order by f.tokens desc
                for update skip locked
                limit 1)
      returning b.tokens, b.shard into left_, shard_;
      if not found then
        shard_ := pg_catalog.pg_backend_pid() % lim.shards;
      end if;
    end if;
    if left_ is null then
      -- First use of this bucket (or every shard busy): create or update the row.
      insert into collab.rate_buckets as b (workspace_id, action, subject, shard, tokens, refreshed_at)
      values (take_tokens.workspace_id, take_tokens.action, subject_, shard_,
              lim.burst / lim.shards - take_tokens.cost, now_)
      on conflict on constraint rate_buckets_pkey do update
         set tokens = collab.bucket_tokens(b.tokens, b.refreshed_at, now_, lim.rate_per_second / lim.shards,
                                         lim.burst / lim.shards) - take_tokens.cost,
             refreshed_at = greatest(b.refreshed_at, now_)
      returning b.tokens into left_;
    end if;
    if left_ < 0 then
      perform collab.raise_error('PT429', 'rate_limited',
        format('rate limit for %s (%s) exceeded: at most %s per second, bursts of %s',
               take_tokens.action, lim.scope, lim.rate_per_second, lim.burst),
        case when take_tokens.action = 'enqueue' then 'jobs' else 'executor_id' end,
        'wait retry_after seconds, then try again',
        jsonb_build_object('retry_after',
          least(ceil(-left_ / (lim.rate_per_second / lim.shards) * 1000) / 1000, 86400),
          'scope', lim.scope, 'action', take_tokens.action));
    end if;
  end loop;
end
$$;
comment on function collab.take_tokens(uuid, text, uuid, double precision) is
  'Takes cost tokens from the configured rate-limit buckets of the action; raises PT429 rate_limited with retry_after when short.';

-- >>> functions/collab.transition_allowed.sql
-- The job state machine: which (from, to, event) changes are legal. Anything else is
-- rejected by the events trigger, whoever issues the UPDATE.
-- No SET clause, so the planner can inline it (names are schema-qualified).
create or replace function collab.transition_allowed(
  from_status collab.job_status,
  to_status collab.job_status,
  event collab.job_event_type
)
returns boolean
language sql
immutable
parallel safe
as $$
  select case
    when from_status is null then to_status = 'queued' and event = 'enqueued'
    when from_status = 'queued' and to_status = 'running' then event = 'claimed'
    when from_status = 'queued' and to_status = 'cancelled' then event = 'cancelled'
    when from_status = 'running' and to_status = 'running' then event in ('progress', 'cancel_requested')
    when from_status = 'running' and to_status = 'succeeded' then event = 'succeeded'
    when from_status = 'running' and to_status = 'queued'
      then event in ('retry_scheduled', 'lease_expired', 'lease_released')
    when from_status = 'running' and to_status = 'dead' then event = 'dead'
    when from_status = 'running' and to_status = 'cancelled' then event = 'cancelled'
    when from_status = 'dead' and to_status = 'queued' then event = 'requeued'
    else false
  end
$$;
comment on function collab.transition_allowed(collab.job_status, collab.job_status, collab.job_event_type) is
  'The job state machine: true when changing from_status to to_status with this event is legal.';

-- >>> functions/collab.unschedule_reaper.sql
-- Remove the pg_cron job of collab.schedule_reaper, if any.
create or replace function collab.unschedule_reaper()
returns void
language plpgsql
volatile
as $$
begin
  if to_regclass('cron.job') is not null then
    execute $cron$select cron.unschedule(jobid) from cron.job where jobname = 'collab-reap'$cron$;
  end if;
end
$$;
comment on function collab.unschedule_reaper() is 'Removes the collab-reap pg_cron job when present.';

-- >>> functions/collab.workspace_limits.sql
-- The limits in force for a workspace: the operator's (collab.platform_limits, overridden by
-- the workspace's limit_* columns) and its admins' quotas, as one JSON object. Null
-- workspace_id: the platform defaults only.
create or replace function collab.workspace_limits(workspace_id uuid)
returns jsonb
language sql
stable
as $$
  select jsonb_build_object(
           'workspaces_per_user', p.workspaces_per_user,
           'queues', coalesce(w.limit_queues, p.queues_per_workspace),
           'executors', coalesce(w.limit_executors, p.executors_per_workspace),
           'stored_jobs', coalesce(w.limit_stored_jobs, p.stored_jobs_per_workspace),
           'payload_ceiling_bytes', coalesce(w.limit_payload_bytes, p.payload_ceiling_bytes))
         || case when w.id is null then '{}'::jsonb
                 else jsonb_build_object('workspace_id', w.id,
                                         'max_payload_bytes', w.max_payload_bytes,
                                         'max_queued_jobs', w.max_queued_jobs) end
    from collab.platform_limits p
    left join collab.workspaces w on w.id = workspace_limits.workspace_id
$$;
comment on function collab.workspace_limits(uuid) is
  'Effective limits of a workspace (operator limits with its overrides, and its admins'' quotas) as JSON; null: the platform defaults.';

-- >>> triggers/collab.executors.executors_limit.sql
-- New executors stay within the operator's executors limit of their workspace.
create trigger executors_limit
after insert on collab.executors
referencing new table as new_rows
for each statement execute function collab.check_created_limit('executors');

-- >>> triggers/collab.job_events.job_events_broadcast.sql
-- On Supabase (realtime.send exists), state changes are also broadcast per workspace; plain
-- Postgres gets neither the trigger nor its function. See collab.enable_realtime_broadcast.
select collab.enable_realtime_broadcast();

-- >>> triggers/collab.job_history.job_history_events_insert.sql
-- Every job that finishes (moves into the history) gets its event in the same transaction.
-- Statement-level on the partitioned table: rows written straight into a partition (the
-- backlog move of revision 0009, collab.ensure_job_history_partitions) are not new changes
-- and write no event.
create trigger job_history_events_insert
after insert on collab.job_history
referencing new table as new_jobs
for each statement execute function collab.job_history_after_insert();

-- >>> triggers/collab.jobs.jobs_events_insert.sql
-- Every new job gets its `enqueued` event in the same transaction.
create trigger jobs_events_insert
after insert on collab.jobs
referencing new table as new_jobs
for each statement execute function collab.jobs_after_insert();

-- >>> triggers/collab.jobs.jobs_events_update.sql
-- Every job change gets its event in the same transaction; illegal transitions are refused.
create trigger jobs_events_update
after update on collab.jobs
referencing old table as old_jobs new table as new_jobs
for each statement execute function collab.jobs_after_update();

-- >>> triggers/collab.queues.queues_limit.sql
-- New queues stay within the operator's queues limit of their workspace.
create trigger queues_limit
after insert on collab.queues
referencing new table as new_rows
for each statement execute function collab.check_created_limit('queues');

-- >>> policies/executors.executors_select_member.sql
-- A signed-in user sees the executors rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists executors_select_member on collab.executors;
create policy executors_select_member on collab.executors
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));

-- >>> policies/invitations.invitations_select_own.sql
-- A signed-in user sees the invitations addressed to them (as members_select_own). Defence in
-- depth: nothing in collab is granted to authenticated; api.list_invitations is the way in.
drop policy if exists invitations_select_own on collab.invitations;
create policy invitations_select_own on collab.invitations
  for select to authenticated
  using (user_id = (select auth.uid()));

-- >>> policies/job_events.job_events_select_member.sql
-- A signed-in user sees the job_events rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists job_events_select_member on collab.job_events;
create policy job_events_select_member on collab.job_events
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));

-- >>> policies/job_history.job_history_select_member.sql
-- A signed-in user sees the finished jobs of the workspaces they are a member of, as in
-- collab.jobs; no policy allows writes (they go through the api functions).
drop policy if exists job_history_select_member on collab.job_history;
create policy job_history_select_member on collab.job_history
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));

-- >>> policies/jobs.jobs_select_member.sql
-- A signed-in user sees the jobs rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists jobs_select_member on collab.jobs;
create policy jobs_select_member on collab.jobs
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));

-- >>> policies/members.members_select_own.sql
-- A signed-in user sees their own memberships (and so, through the other policies, the rows
-- of their workspaces). Defence in depth: nothing in collab is granted to authenticated; these
-- policies confine rows if a grant is ever made (for example for Supabase Realtime).
drop policy if exists members_select_own on collab.members;
create policy members_select_own on collab.members
  for select to authenticated
  using (user_id = (select auth.uid()));

-- >>> policies/metrics_minutely.metrics_minutely_select_member.sql
-- A signed-in user sees the metrics_minutely rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists metrics_minutely_select_member on collab.metrics_minutely;
create policy metrics_minutely_select_member on collab.metrics_minutely
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));

-- >>> policies/metrics_signals.metrics_signals_select_member.sql
-- A signed-in user sees the metrics_signals rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists metrics_signals_select_member on collab.metrics_signals;
create policy metrics_signals_select_member on collab.metrics_signals
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));

-- >>> policies/queues.queues_select_member.sql
-- A signed-in user sees the queues rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists queues_select_member on collab.queues;
create policy queues_select_member on collab.queues
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));

-- >>> policies/rate_buckets.rate_buckets_select_member.sql
-- A signed-in user sees the rate_buckets rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists rate_buckets_select_member on collab.rate_buckets;
create policy rate_buckets_select_member on collab.rate_buckets
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));

-- >>> policies/rate_limits.rate_limits_select_member.sql
-- A signed-in user sees the rate_limits rows of the workspaces they are a member of; no policy
-- allows writes (they go through the api functions).
drop policy if exists rate_limits_select_member on collab.rate_limits;
create policy rate_limits_select_member on collab.rate_limits
  for select to authenticated
  using (workspace_id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));

-- >>> policies/workspaces.workspaces_select_member.sql
-- A signed-in user sees the workspaces they are a member of.
drop policy if exists workspaces_select_member on collab.workspaces;
create policy workspaces_select_member on collab.workspaces
  for select to authenticated
  using (id in (select m.workspace_id from collab.members m where m.user_id = (select auth.uid())));

-- Nothing private is executable by PUBLIC; the api files grant what they expose.
revoke all on all functions in schema collab from public;
reset check_function_bodies;
