-- Remove the pg_cron job of collab.metrics_schedule_rollup, if any.
create or replace function collab.metrics_unschedule_rollup()
returns void
language plpgsql
volatile
as $$
begin
  if to_regclass('cron.job') is not null then
    execute $cron$select cron.unschedule(jobid) from cron.job where jobname = 'collab-metrics-rollup'$cron$;
  end if;
end
$$;
comment on function collab.metrics_unschedule_rollup() is 'Removes the collab-metrics-rollup pg_cron job when present.';
