-- Housekeeping on demand (operators, cron without pg_cron): see collab.reap.
create or replace function api.reap()
returns jsonb
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
  select collab.reap()
$$;
comment on function api.reap() is
  'Expire overdue leases everywhere and mark silent executors offline, releasing their jobs; roll the metrics up; count stored jobs against the stored_jobs limit (enqueue refuses while a workspace is at it, until a reap finds it under). Service role only. Returns the counts.';
revoke all on function api.reap() from public;
grant execute on function api.reap() to service_role;
