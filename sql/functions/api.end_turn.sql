-- Give up the turn this session holds (api.wait_turn): true if it held one. The next session
-- waiting for that lane gets it at once. A session's end gives it up too. No role is asked:
-- the call gives up nothing but its own session's lock (a caller whose role was taken away
-- can still let its lane go).
create or replace function api.end_turn()
returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  held text := current_setting('collab.turn', true);
begin
  if held is null or held !~ '^-?[0-9]{1,19}$' then
    return false;
  end if;
  perform set_config('collab.turn', '', false);
  return pg_advisory_unlock(held::bigint);
end
$$;
comment on function api.end_turn() is
  'Give up the turn this session holds (api.wait_turn): true if it held one; the next session waiting for that lane gets it.';
revoke all on function api.end_turn() from public;
grant execute on function api.end_turn() to authenticated, service_role;
