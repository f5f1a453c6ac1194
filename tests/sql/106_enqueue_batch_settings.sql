-- api.enqueue_batch reads every table by an index (no sequential or bitmap scans: a fresh
-- collab.idempotency_keys without statistics was read whole for each element of a keyed
-- batch) and never compiles a plan with JIT: a plan that still holds a disabled scan (the
-- one-row collab.platform_limits, read when a batch makes a queue) costs more than
-- jit_above_cost, and compiling it made such a batch take 130 to 190 ms instead of 12.
BEGIN;
select plan(3);

-- The planner's total cost of a statement.
create function pg_temp.plan_cost(statement text) returns float8 language plpgsql as $$
declare
  plan json;
begin
  execute 'explain (format json) ' || statement into plan;
  return (plan -> 0 -> 'Plan' ->> 'Total Cost')::float8;
end
$$;

select is((select array_to_string(p.proconfig, ',') from pg_proc p
            where p.oid = 'api.enqueue_batch(jsonb)'::regprocedure),
          'search_path=pg_catalog, pg_temp,enable_seqscan=off,enable_bitmapscan=off,jit=off',
          'api.enqueue_batch sets enable_seqscan = off, enable_bitmapscan = off and jit = off');

-- With the function's settings, the limits it reads when it makes a queue cost more than JIT's
-- threshold: without jit = off that plan would be compiled.
set local enable_seqscan = off;
select cmp_ok(pg_temp.plan_cost('select * from collab.platform_limits'),
  '>', current_setting('jit_above_cost')::float8,
  'with sequential scans off, reading collab.platform_limits costs more than jit_above_cost');
reset enable_seqscan;

select is((select count(*) from api.enqueue_batch('[{"queue": "made-by-106", "type": "t"}]')), 1::bigint,
          'a batch that makes its queue enqueues');

select * from finish();
ROLLBACK;
