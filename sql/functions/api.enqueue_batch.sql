-- Enqueue many jobs in one call and one INSERT: the result is in input order, one
-- `enqueued` event per new job. Every element is validated first; a bad element raises
-- PT400 naming its index and nothing is written. Idempotency as in api.enqueue, also
-- between elements of the same batch: keys live in collab.idempotency_keys, so they outlive
-- their job's move to collab.job_history. While the reaper has found the workspace at its
-- stored_jobs limit (workspaces.stored_jobs_full, collab.count_stored_jobs), PT429
-- quota_exceeded {quota: stored_jobs, limit, stored}: the flag is read with max_payload_bytes,
-- so the limit costs enqueue nothing, and a workspace can go over it by what it enqueues
-- between two reaps (one minute with pg_cron).
-- No sequential or bitmap scans (enable_seqscan, enable_bitmapscan): every table this reads
-- it reads by primary key, and with the statistics of a fresh collab.idempotency_keys the
-- planner read all the workspace's keys for each element instead (see step 6). A plan that
-- still holds a disabled scan then costs more than jit_above_cost, so JIT is off (jit), as in
-- api.claim: the one-row collab.platform_limits, read when a batch makes a queue
-- (collab.workspace_limits), has no other path, and compiling that plan made such a batch
-- take 130 to 190 ms instead of 12.
create or replace function api.enqueue_batch(jobs jsonb)
returns setof api.job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set enable_seqscan = off
set enable_bitmapscan = off
set jit = off
as $$
declare
  ws uuid := collab.require_role('member');
  max_payload integer;
  stored_full boolean;
  now_ timestamptz := collab.clock();
  bad record;
  keyed boolean;
  timed boolean;
  names_ok boolean;
  ids bigint[];
  won text[] := '{}';
  key_jobs bigint[];
  made bigint;
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

  -- 0. What the batch holds, in one pass: whether any element has an idempotency key, or a
  -- run_at or delay to cast, and whether its distinct queue and type names are all valid (a
  -- batch names few; a missing or non-string name counts as valid here, the checks below
  -- refuse it by its type). A batch without keys, times or bad names then skips those steps
  -- and the name test per element: 1.9 of 14.5 ms a batch of 1,000 went to the checks.
  select coalesce(bool_or(t.e ->> 'idempotency_key' is not null), false),
         coalesce(bool_or(jsonb_typeof(t.e -> 'run_at') = 'string'
                          or jsonb_typeof(t.e -> 'delay') = 'string'), false),
         coalesce((select bool_and(coalesce(collab.is_name(n.name), true))
                     from unnest(array_agg(distinct t.e ->> 'queue') || array_agg(distinct t.e ->> 'type')) n(name)), true)
    into keyed, timed, names_ok
    from jsonb_array_elements(enqueue_batch.jobs) t(e);

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
                    or case when names_ok then false else not collab.is_name(t.e ->> 'queue') end then 'queue'
               when jsonb_typeof(t.e -> 'type') is distinct from 'string'
                    or case when names_ok then false else not collab.is_name(t.e ->> 'type') end then 'type'
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
     where timed and (jsonb_typeof(t.e -> 'run_at') = 'string' or jsonb_typeof(t.e -> 'delay') = 'string')
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

  -- 2. Queues on first use, each distinct name looked up once.
  insert into collab.queues (workspace_id, name)
  select ws, n.name
    from (select distinct t.e ->> 'queue' as name from jsonb_array_elements(enqueue_batch.jobs) t(e)) n
   where not exists (select 1 from collab.queues q where q.workspace_id = ws and q.name = n.name)
  on conflict do nothing;

  -- 3. With idempotency keys, ids from the identity of collab.jobs, drawn in input order for
  -- every element that may make a job: one without a key, or the first of the batch with its
  -- key. Without keys every element makes a job, and its INSERT draws them (step 5).
  if keyed then
    ids := array(
      select case when x.key is null or x.key_rank = 1 then nextval('collab.jobs_id_seq'::regclass) end
        from (select t.ord, t.e ->> 'idempotency_key' as key,
                     row_number() over (partition by t.e ->> 'idempotency_key' order by t.ord) as key_rank
                from jsonb_array_elements(enqueue_batch.jobs) with ordinality t(e, ord)
               order by t.ord) x);
  end if;

  -- 4. The keys, claimed before the jobs exist: a key already taken (by a committed enqueue,
  -- or by one still running, which this waits for) stays with its job. Inserted in key order,
  -- so two batches sharing keys wait for each other and never deadlock.
  if keyed then
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

  -- 5. One INSERT for the batch, in input order. Without keys every element makes a job and
  -- the new jobs, as the api returns them, are the whole answer: returned as the INSERT makes
  -- them, their ids drawn by its identity after the sort, so in input order. Collecting them
  -- in an array unnested afterwards, and one INSERT for both cases (a filter on the keys,
  -- the ids of step 3 or drawn here), made a batch of 1,000 jobs 3 to 5 % slower
  -- (docs/bench.md, "Batch enqueue returns its jobs as made").
  if not keyed then
    return query
    with ins as (
      insert into collab.jobs as j (workspace_id, queue, type, payload, priority, run_at,
                                    max_attempts, created_at)
      select ws, t.e ->> 'queue', t.e ->> 'type',
             coalesce(nullif(t.e -> 'payload', 'null'::jsonb), '{}'::jsonb),
             coalesce((t.e ->> 'priority')::numeric::integer, 0),
             greatest(coalesce((t.e ->> 'run_at')::timestamptz, now_)
                      + coalesce((t.e ->> 'delay')::interval, interval '0'), now_),
             coalesce((t.e ->> 'max_attempts')::numeric::integer, q.max_attempts),
             now_
        from jsonb_array_elements(enqueue_batch.jobs) with ordinality t(e, ord)
        join collab.queues q on q.workspace_id = ws and q.name = t.e ->> 'queue'
       order by t.ord
      returning (collab.job_row(j)).*
    )
    select * from ins order by ins.id;
    return;
  end if;
  -- With keys, the elements whose ids step 3 drew and whose keys step 4 won, the columns as
  -- above; steps 6-8 make the answer.
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
     and (t.e ->> 'idempotency_key' is null or t.e ->> 'idempotency_key' in (select unnest(won)))
   order by t.ord;
  get diagnostics made = row_count;

  -- 6. The job each element's key names (null without a key), each key looked up once, by
  -- one probe of the primary key of collab.idempotency_keys (a subquery with LIMIT, which the
  -- planner cannot turn into a join). As a join, with the keys' statistics of a fresh table,
  -- the planner read every key of the workspace for every element: a keyed api.enqueue took
  -- 9.6 ms with 20,000 keys stored, a batch of 100 keys 236 ms (3.6 ms and 10.8 ms analyzed);
  -- tests/py/integration/test_idempotency_key_lookups.py. An element made a new job when its
  -- key names the id drawn for it; any other element with a key is an idempotent repeat.
  key_jobs := array(
    select case when s.e ->> 'idempotency_key' is not null then
             (select k.job_id from collab.idempotency_keys k
               where k.workspace_id = ws and k.key = s.e ->> 'idempotency_key'
               limit 1) end
      from jsonb_array_elements(enqueue_batch.jobs) with ordinality s(e, ord)
     order by s.ord);

  -- 7. Idempotent repeats must match what is stored: the job the key names, live or finished.
  select s.ord - 1 as idx, j.id into bad
    from jsonb_array_elements(enqueue_batch.jobs) with ordinality s(e, ord)
    cross join lateral collab.stored_job(ws, key_jobs[s.ord::integer]) j
   where key_jobs[s.ord::integer] is not null
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
  if made < jsonb_array_length(enqueue_batch.jobs) then
    perform collab.metrics_signal('idempotent_duplicate', ws, d.queue, d.type, d.n)
       from (select s.e ->> 'queue' as queue, s.e ->> 'type' as type, count(*) as n
               from jsonb_array_elements(enqueue_batch.jobs) with ordinality s(e, ord)
              where key_jobs[s.ord::integer] is not null
                and key_jobs[s.ord::integer] is distinct from ids[s.ord::integer]
              group by 1, 2) d;
  end if;

  -- 8. The jobs, in input order: a new one by its id, a keyed one by its key's job.
  -- job_row in the select list (not a lateral function scan, which costs a SQL-function call
  -- per row), unnested afterwards.
  return query
  select * from unnest(array(
    select collab.job_row(collab.stored_job(ws, coalesce(key_jobs[s.ord::integer], ids[s.ord::integer])),
                          s.e ->> 'idempotency_key' is not null
                          and key_jobs[s.ord::integer] is distinct from ids[s.ord::integer])
      from jsonb_array_elements(enqueue_batch.jobs) with ordinality s(e, ord)
     order by s.ord));
end
$$;
comment on function api.enqueue_batch(jsonb) is
  'Enqueue many jobs in one statement. jobs: a JSON array of objects with the keys of api.enqueue (queue, type, payload, priority, run_at, delay, max_attempts, idempotency_key). Returns the jobs in input order; a bad element raises PT400 naming its index and nothing is written.';
revoke all on function api.enqueue_batch(jsonb) from public;
grant execute on function api.enqueue_batch(jsonb) to authenticated, service_role;
