-- Enqueue many jobs in one call and one INSERT: the result is in input order, one
-- `enqueued` event per new job. Every element is validated first; a bad element raises
-- PT400 naming its index and nothing is written. Idempotency as in api.enqueue, also
-- between elements of the same batch.
create or replace function api.enqueue_batch(jobs jsonb)
returns setof api.job
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ws uuid := collab.current_workspace();
  now_ timestamptz := collab.clock();
  bad record;
  inserted bigint[];
  inserted_unkeyed bigint[];
begin
  if enqueue_batch.jobs is null or jsonb_typeof(enqueue_batch.jobs) <> 'array' then
    perform collab.raise_error('PT400', 'invalid_input', 'jobs must be a JSON array of job objects', 'jobs');
  end if;
  if jsonb_array_length(enqueue_batch.jobs) > 10000 then
    perform collab.raise_error('PT400', 'invalid_input',
      format('jobs holds %s elements; at most 10000 per call', jsonb_array_length(enqueue_batch.jobs)), 'jobs');
  end if;

  -- 1. Shape and ranges, set-based; the first bad element (by index) is reported.
  select t.ord - 1 as idx, c.field, c.message into bad
    from jsonb_array_elements(enqueue_batch.jobs) with ordinality t(e, ord)
    cross join lateral (values
      (0, 'jobs', jsonb_typeof(t.e) <> 'object', 'must be a JSON object'),
      (1, 'queue', coalesce(t.e ->> 'queue', '') !~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$'
                   or jsonb_typeof(t.e -> 'queue') <> 'string',
          'queue must be 1-100 characters of letters, digits, ".", "_", "-" or ":"'),
      (2, 'type', coalesce(t.e ->> 'type', '') !~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$'
                  or jsonb_typeof(t.e -> 'type') <> 'string',
          'type must be 1-100 characters of letters, digits, ".", "_", "-" or ":"'),
      (3, 'priority', case when t.e -> 'priority' is null then false
                           when jsonb_typeof(t.e -> 'priority') <> 'number' then true
                           else (t.e ->> 'priority')::numeric not between -1000000 and 1000000
                                or (t.e ->> 'priority')::numeric % 1 <> 0 end,
          'priority must be an integer between -1000000 and 1000000'),
      (4, 'max_attempts', case when t.e -> 'max_attempts' is null or jsonb_typeof(t.e -> 'max_attempts') = 'null' then false
                               when jsonb_typeof(t.e -> 'max_attempts') <> 'number' then true
                               else (t.e ->> 'max_attempts')::numeric not between 1 and 1000
                                    or (t.e ->> 'max_attempts')::numeric % 1 <> 0 end,
          'max_attempts must be an integer between 1 and 1000'),
      (5, 'idempotency_key', case when t.e -> 'idempotency_key' is null or jsonb_typeof(t.e -> 'idempotency_key') = 'null' then false
                                  else jsonb_typeof(t.e -> 'idempotency_key') <> 'string'
                                       or length(t.e ->> 'idempotency_key') not between 1 and 255 end,
          'idempotency_key must be a string of 1-255 characters'),
      (6, 'run_at', jsonb_typeof(t.e -> 'run_at') not in ('string', 'null'),
          'run_at must be an ISO 8601 timestamp string'),
      (7, 'delay', jsonb_typeof(t.e -> 'delay') not in ('string', 'null'),
          'delay must be an interval string such as "30 seconds"'),
      (8, 'payload', octet_length((t.e -> 'payload')::text) > 1048576,
          'payload is larger than 1 MiB')
    ) c(n, field, failed, message)
   where c.failed
   order by t.ord, c.n
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
      if (bad.run_at #>> '{}')::timestamptz > now_ + interval '10 years' then
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

  -- 3. One INSERT for the batch, in input order (identity ids follow it).
  with ins as (
    insert into collab.jobs as j (workspace_id, queue, type, payload, priority, run_at,
                                  max_attempts, idempotency_key, created_at)
    select ws, t.e ->> 'queue', t.e ->> 'type',
           coalesce(nullif(t.e -> 'payload', 'null'::jsonb), '{}'::jsonb),
           coalesce((t.e ->> 'priority')::numeric::integer, 0),
           greatest(coalesce((t.e ->> 'run_at')::timestamptz, now_)
                    + coalesce((t.e ->> 'delay')::interval, interval '0'), now_),
           coalesce((t.e ->> 'max_attempts')::numeric::integer, q.max_attempts),
           t.e ->> 'idempotency_key',
           now_
      from jsonb_array_elements(enqueue_batch.jobs) with ordinality t(e, ord)
      join collab.queues q on q.workspace_id = ws and q.name = t.e ->> 'queue'
     order by t.ord
    on conflict (workspace_id, idempotency_key) where idempotency_key is not null do nothing
    returning j.id, j.idempotency_key
  )
  select coalesce(array_agg(ins.id order by ins.id), '{}'),
         coalesce(array_agg(ins.id order by ins.id) filter (where ins.idempotency_key is null), '{}')
    into inserted, inserted_unkeyed
    from ins;

  -- 4. Idempotent repeats must match what is stored.
  select s.ord - 1 as idx, j.id into bad
    from jsonb_array_elements(enqueue_batch.jobs) with ordinality s(e, ord)
    join collab.jobs j on j.workspace_id = ws and j.idempotency_key = s.e ->> 'idempotency_key'
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

  -- 5. The jobs, in input order.
  return query
  with spec as (
    select s.ord, s.e ->> 'idempotency_key' as key,
           row_number() over (partition by (s.e ->> 'idempotency_key') is null order by s.ord) as rn,
           row_number() over (partition by s.e ->> 'idempotency_key' order by s.ord) as key_rank
      from jsonb_array_elements(enqueue_batch.jobs) with ordinality s(e, ord)
  ),
  fresh as (
    select f.id, f.rn from unnest(inserted_unkeyed) with ordinality f(id, rn)
  )
  select r.*
    from spec
    left join fresh on spec.key is null and fresh.rn = spec.rn
    left join collab.jobs jn on jn.id = fresh.id
    left join collab.jobs jk on spec.key is not null and jk.workspace_id = ws and jk.idempotency_key = spec.key
    cross join lateral collab.job_row(coalesce(jn, jk),
                        spec.key is not null and not (jk.id = any(inserted) and spec.key_rank = 1)) r
   order by spec.ord;
end
$$;
comment on function api.enqueue_batch(jsonb) is
  'Enqueue many jobs in one statement. jobs: a JSON array of objects with the keys of api.enqueue (queue, type, payload, priority, run_at, delay, max_attempts, idempotency_key). Returns the jobs in input order; a bad element raises PT400 naming its index and nothing is written.';
revoke all on function api.enqueue_batch(jsonb) from public;
grant execute on function api.enqueue_batch(jsonb) to authenticated, service_role;
