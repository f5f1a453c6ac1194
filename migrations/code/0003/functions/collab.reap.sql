-- Periodic housekeeping (pg_cron every minute where installed; `collab reap` otherwise):
-- expires overdue leases everywhere, marks executors silent for 3 heartbeat intervals
-- offline (an `executor_offline` event each) and releases their leases at once
-- (`lease_released`). Claims never depend on it.
create or replace function collab.reap()
returns jsonb
language plpgsql
volatile
set search_path = ''
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
  return jsonb_build_object('expired', expired, 'offline', coalesce(cardinality(gone), 0),
                            'released', coalesce(cardinality(held), 0));
end
$$;
comment on function collab.reap() is
  'Expires overdue leases, marks silent executors offline and releases their jobs. Returns the counts.';
