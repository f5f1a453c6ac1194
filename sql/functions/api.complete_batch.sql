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
-- No bitmap scans and no sequential scans (enable_bitmapscan, enable_seqscan), as api.claim:
-- with statistics of collab.jobs that say it is empty (an analyze of nearly only dead rows)
-- and 150,000 jobs queued, a batch of 32 took 122 ms instead of 1.9 ms (bitmap scans of the
-- primary key over the workspace's jobs); with a plan made while the table was still small
-- (a fresh database, before its first vacuum), every batch read the whole table, dead rows
-- and all. The workspace test on rows found by id is written `(x.workspace_id = ws) is true`,
-- which no index can serve: written plainly, a plan made for a "small" table read the
-- workspace's jobs in jobs_list_status_idx to find a batch of them
-- (tests/py/integration/test_claim_plan_without_statistics.py).
-- No JIT (jit), as api.claim: under a snapshot held open, an autovacuum of collab.jobs (which
-- can remove none of its dead rows) left statistics under which the completing statement's
-- generic plan, costed for 100 items, came to 123,321, over jit_above_cost (100,000), so every
-- call compiled it (46 functions) before running it: calls of a few jobs took up to 300 ms,
-- the worker's finished jobs waited for their reports, its lease cap stopped its claims, and
-- it completed half of the 300 jobs a second offered until the next autovacuum changed the
-- statistics again (the held-snapshot row, docs/bench.md). Compiling pays only for long
-- scans, which no call here makes. So do api.complete, api.fail, api.progress, api.heartbeat
-- and api.enqueue, the other calls a worker makes for every job or every beat
-- (tests/py/integration/test_hot_path_without_jit.py).
create or replace function api.complete_batch(items jsonb)
returns setof api.completion
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
set enable_bitmapscan = off
set enable_seqscan = off
set jit = off
as $$
declare
  ws uuid := collab.require_role('member');
  max_payload integer := (select w.max_payload_bytes from collab.workspaces w where w.id = ws);
  now_ timestamptz := collab.clock();
  bad record;
  outcomes api.completion[];
  ids bigint[];
  completed boolean;
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
   where x.id = any(ids) and (x.workspace_id = ws) is true and x.lease_expires_at is not null
   order by x.id
     for update;

  perform set_config('collab.statement_events', 'collab.job_history', true);
  with item as (
    select (t.e ->> 'job_id')::bigint as job_id, (t.e ->> 'lease_token')::uuid as lease_token,
           t.e -> 'result' as result, t.ord
      from jsonb_array_elements(complete_batch.items) with ordinality t(e, ord)
  ),
  -- The move: out of collab.jobs, into collab.job_history, with the succeeded events, only
  -- from running under the item's token (collab.jobs_after_update says how: the events trigger
  -- of collab.job_history leaves this statement's rows to it).
  moved as (
    delete from collab.jobs x
     using item
     -- x.id = any(ids): the rows by primary key, whatever the planner guesses of the items.
     where x.id = any(ids) and x.id = item.job_id and (x.workspace_id = ws) is true
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
    returning id, workspace_id, queue, type, attempt, executor_id, lease_token
  ),
  written as (
    insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt,
                                   executor_id, data, created_at)
    select d.workspace_id, d.id, 'succeeded', d.queue, d.type, d.attempt, d.executor_id,
           '{}'::jsonb, now_
      from done d
     order by d.id
  ),
  outcome as (
    select item.ord, item.job_id,
         done.id is not null as ok,
         case when done.id is not null then null
              -- The job in the hot table as it was before this statement: one primary-key
              -- read, for an item not completed only.
              when exists (select 1 from collab.jobs k
                            where k.id = item.job_id and (k.workspace_id = ws) is true) then 'lease_lost'
              else 'job_not_found' end as reason
    from item
    -- By token too: an item naming the same job with a stale token is lease_lost, even when
    -- another item of the batch completed that job with the right one.
    left join done on done.id = item.job_id and done.lease_token = item.lease_token
  )
  select array_agg(row(o.job_id, o.ok, o.reason)::api.completion order by o.ord),
         coalesce(bool_or(o.ok), false)
    into outcomes, completed
    from outcome o;
  if completed then
    perform collab.notify_events(ws);
  end if;

  -- Items whose job is not in the hot table (rare: a repeat, a stale token, a wrong id) are
  -- judged against the history, each read from the one partition collab.finished_job names:
  -- a job completed before this call with this token is ok again, any other finished job
  -- lease_lost. The common batch never reads the history.
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
      left join lateral (select f.* from collab.finished_job(ws, o.job_id) f
                          where o.reason = 'job_not_found') h on true;
  end if;

  -- Stale tokens do not abort the batch, so they can be counted (docs/metrics.md), by the
  -- queue and type of the job: in the hot table, else in the history (a job lives in one).
  if exists (select 1 from unnest(outcomes) o where o.reason = 'lease_lost') then
    perform collab.metrics_signal('fencing_rejection', ws, j.queue, j.type, count(*))
       from unnest(outcomes) o
      cross join lateral (
        select x.queue, x.type from collab.jobs x where x.id = o.job_id and (x.workspace_id = ws) is true
        union all
        select h.queue, h.type from collab.finished_job(ws, o.job_id) h
         where h.id is not null
           and not exists (select 1 from collab.jobs x where x.id = o.job_id and (x.workspace_id = ws) is true)) j
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
