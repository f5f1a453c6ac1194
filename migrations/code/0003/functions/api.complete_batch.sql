-- Complete many jobs in one statement (the worker's hot path). items: a JSON array of
-- {"job_id": n, "lease_token": "uuid", "result": any}. Each item is fenced like
-- api.complete and reported on its own: a stale token fails only its item (lease_lost).
create or replace function api.complete_batch(items jsonb)
returns setof api.completion
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ws uuid := collab.current_workspace();
  now_ timestamptz := collab.clock();
  bad record;
  outcomes api.completion[];
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
          'lease_token must be a uuid')
    ) c(n, field, failed, message)
   where c.failed
   order by t.ord, c.n
   limit 1;
  if found then
    perform collab.raise_error('PT400', 'invalid_input', format('items[%s]: %s', bad.idx, bad.message),
      bad.field, 'nothing was completed', jsonb_build_object('index', bad.idx));
  end if;

  with item as (
    select (t.e ->> 'job_id')::bigint as job_id, (t.e ->> 'lease_token')::uuid as lease_token,
           t.e -> 'result' as result, t.ord
      from jsonb_array_elements(complete_batch.items) with ordinality t(e, ord)
  ),
  done as (
    update collab.jobs x set
      status = 'succeeded', last_event = 'succeeded', result = item.result,
      lease_expires_at = null, finished_at = now_
      from item
     where x.id = item.job_id and x.workspace_id = ws
       and x.status = 'running' and x.lease_token = item.lease_token
    returning x.id
  ),
  outcome as (
    select item.ord, item.job_id,
         done.id is not null or prior.id is not null as ok,
         case when done.id is not null or prior.id is not null then null
              when known.id is null then 'job_not_found'
              else 'lease_lost' end as reason
    from item
    left join done on done.id = item.job_id
    left join collab.jobs prior on prior.id = item.job_id and prior.workspace_id = ws
                                and prior.status = 'succeeded' and prior.lease_token = item.lease_token
    left join collab.jobs known on known.id = item.job_id and known.workspace_id = ws
  )
  select array_agg(row(o.job_id, o.ok, o.reason)::api.completion order by o.ord) into outcomes
    from outcome o;

  -- Stale tokens do not abort the batch, so they can be counted (docs/metrics.md).
  if exists (select 1 from unnest(outcomes) o where o.reason = 'lease_lost') then
    perform collab.metrics_signal('fencing_rejection', ws, j.queue, j.type, count(*))
       from unnest(outcomes) o join collab.jobs j on j.id = o.job_id
      where o.reason = 'lease_lost'
      group by j.queue, j.type;
  end if;
  return query select * from unnest(outcomes);
end
$$;
comment on function api.complete_batch(jsonb) is
  'Complete many jobs at once. items: [{"job_id", "lease_token", "result"}]. Returns one row per item in order: ok, or reason lease_lost / job_not_found (other items still complete).';
revoke all on function api.complete_batch(jsonb) from public;
grant execute on function api.complete_batch(jsonb) to authenticated, service_role;
