-- Schedule collab.metrics_rollup() every minute with pg_cron where pg_cron can run in this
-- database (as collab.schedule_reaper does). Elsewhere api.metrics_summary rolls up on
-- demand. Returns whether scheduled.
create or replace function collab.metrics_schedule_rollup()
returns boolean
language plpgsql
volatile
set search_path = ''
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
