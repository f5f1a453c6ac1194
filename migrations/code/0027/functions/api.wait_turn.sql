-- Wait for this session's turn to claim on a wake-up of the given queues (default: the
-- executor's), up to wait_ms milliseconds: true once the session holds it, false when the
-- wait ran out. One session at a time holds the turn of a workspace and a set of queues (a
-- lane: the same names in any order), until api.end_turn or until the session ends, so that
-- of k idle workers on the same queues one claims when a job's wake-up comes, where each of
-- them made a claim that found nothing before (docs/scaling.md, "Many idle workers"). The turn
-- decides nothing about which jobs anyone may claim: api.claim stays the one rule, and a
-- worker that holds no turn may still claim (a poll, its own report).
-- The turn is a session-level advisory lock on a 64-bit hash of the workspace and the sorted
-- names; a session holds at most one (a turn of another lane is given up first), and asking
-- again for the turn it holds returns true at once without taking the lock twice. While it
-- waits, a session's notifications are held back by Postgres and delivered after the call, so
-- a worker that waits on its listen connection hears what came meanwhile once it returns.
-- A waiting call holds a snapshot, as any statement does, for at most wait_ms (60 s at most).
-- Refused through the REST API (PT400): a session lock taken there would stay on the pooled
-- connection after the request. Call it on a connection of its own, as its own transaction
-- (a transaction rolled back after it forgets which turn the session holds but keeps the lock:
-- api.end_turn then cannot give it up, and only the session's end does).
create or replace function api.wait_turn(
  executor_id uuid,
  queues text[] default null,
  wait_ms integer default 1000
)
returns boolean
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  ex collab.executors;
  wanted text[];
  key bigint;
  held text := substring(current_setting('collab.turn', true) from '^-?[0-9]{1,19}$');
  timeout_ text := current_setting('lock_timeout');
  got boolean;
begin
  ex := collab.require_executor(wait_turn.executor_id, ws);
  if nullif(current_setting('request.method', true), '') is not null then
    perform collab.raise_error('PT400', 'invalid_input',
      'wait_turn holds a lock for the session that calls it: call it on a connection of your own, not through the REST API',
      null, 'a worker waits for its turn on its listen connection (collab.Worker does)');
  end if;
  if wait_turn.wait_ms is null or wait_turn.wait_ms not between 0 and 60000 then
    perform collab.raise_error('PT400', 'invalid_input', 'wait_ms must be between 0 and 60000', 'wait_ms');
  end if;
  wanted := collab.wanted_queues(wait_turn.queues, ex.queues);

  key := hashtextextended(ws::text || '/' || array_to_string(
           array(select distinct q.name collate "C" from unnest(wanted) q(name) order by 1), ','), 0);
  if held = key::text then
    return true;
  end if;
  if held is not null then
    perform api.end_turn();  -- a session holds one turn
  end if;
  if wait_turn.wait_ms = 0 then
    got := pg_try_advisory_lock(key);
  else
    perform set_config('lock_timeout', wait_turn.wait_ms::text, true);
    begin
      perform pg_advisory_lock(key);
      got := true;
    exception when lock_not_available then
      got := false;
    end;
    perform set_config('lock_timeout', timeout_, true);
  end if;
  if got then
    perform set_config('collab.turn', key::text, false);
  end if;
  return got;
end
$$;
comment on function api.wait_turn(uuid, text[], integer) is
  'Wait up to wait_ms (0-60000) for this session''s turn to claim on wake-ups of queues (default: the executor''s; a lane is a workspace and a set of names): true once held (until api.end_turn or the session''s end), false when the wait ran out. One session holds a lane''s turn at a time, so one of many idle workers claims when a job''s wake-up comes. Not through the REST API (PT400): call it on a connection of your own.';
revoke all on function api.wait_turn(uuid, text[], integer) from public;
grant execute on function api.wait_turn(uuid, text[], integer) to authenticated, service_role;
