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
