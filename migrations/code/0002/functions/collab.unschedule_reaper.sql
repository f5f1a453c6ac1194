-- Remove the pg_cron job of collab.schedule_reaper, if any.
create or replace function collab.unschedule_reaper()
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if to_regclass('cron.job') is not null then
    execute $cron$select cron.unschedule(jobid) from cron.job where jobname = 'collab-reap'$cron$;
  end if;
end
$$;
comment on function collab.unschedule_reaper() is 'Removes the collab-reap pg_cron job when present.';
