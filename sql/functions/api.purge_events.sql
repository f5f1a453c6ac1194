-- Event retention on demand (operators, a scheduler): see collab.purge_events.
create or replace function api.purge_events(older_than interval default interval '7 days', batch_size integer default 10000)
returns bigint
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
  select collab.purge_events(purge_events.older_than, purge_events.batch_size)
$$;
comment on function api.purge_events(interval, integer) is
  'Drops the oldest partitions of the event stream older than now - older_than (a prefix of the stream). Before the first partition is made, deletes up to batch_size of the oldest such events instead. Service role only. Returns how many; call again until 0. Consumers whose cursor falls behind get PT410 cursor_expired.';
revoke all on function api.purge_events(interval, integer) from public;
grant execute on function api.purge_events(interval, integer) to service_role;
