-- Retention of finished jobs: drops every partition of collab.job_history whose whole range
-- ended older_than ago or earlier (nothing newer: a partition still holding a younger job is
-- kept whole), and deletes the rows of the default partition finished before then. The
-- idempotency keys of those jobs go first, so each key still names a stored job; events of
-- those jobs that event retention (collab.purge_events) has not removed yet go too, so no
-- event is left without its job (found through the events' job index in the span of ids a
-- partition holds: the stream is never read whole). Dropping a partition locks the parent for a moment
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
  lo_id bigint;
  hi_id bigint;
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
    -- The events of its jobs, found through the events' job index in the span of ids the
    -- partition holds (jobs enqueued long before: where event retention is shorter than the
    -- history's, the usual case, their events are gone and this reads next to nothing), never
    -- by reading every event.
    execute format('select count(*), min(h.id), max(h.id) from %s h', part) into n, lo_id, hi_id;
    execute format('delete from collab.job_events e using %s h
                     where e.job_id between %s and %s and h.workspace_id = e.workspace_id and h.id = e.job_id',
                   part, coalesce(lo_id, 0), coalesce(hi_id, -1));
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
    delete from collab.job_events e using gone
     where e.job_id between (select min(g.id) from gone g) and (select max(g.id) from gone g)
       and e.workspace_id = gone.workspace_id and e.job_id = gone.id
  )
  select removed + count(*) into removed from gone;
  return removed;
end
$$;
comment on function collab.purge_job_history(interval) is
  'Retention: drops the partitions of collab.job_history that ended older_than (1 day - 1000 years) ago, and the older rows of its default partition, with the idempotency keys and remaining events of those jobs. Returns how many jobs it removed.';
