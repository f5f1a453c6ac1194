-- Schedule collab.reap() with pg_cron every minute where pg_cron can run in this database
-- (installed, and this is its cron.database_name). Elsewhere it does nothing: claims reclaim
-- expired leases themselves and `collab reap` runs it on demand. Returns whether scheduled.
create or replace function collab.schedule_reaper()
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
  execute $cron$select cron.schedule('collab-reap', '* * * * *', 'select collab.reap()')$cron$;
  return true;
end
$$;
comment on function collab.schedule_reaper() is
  'Schedules collab.reap() every minute with pg_cron when it is available in this database; returns whether it did.';
