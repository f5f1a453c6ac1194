-- collab.notify_jobs is one expression the planner inlines into the statement that calls it
-- (the triggers' statements, whose plans PL/pgSQL keeps), so its body is not parsed and
-- planned again at every enqueue. Written as a SELECT with a FROM it could not be inlined:
-- the plan then shows the call to collab.notify_jobs itself. So are collab.queue_list (in it),
-- and collab.notify_events and collab.notify_jobs_later, whose window is one PL/pgSQL call
-- (collab.notify_throttled), and collab.due_in_ms in the triggers' aggregates, and
-- collab.statement_clock, the time the triggers count the delays from. What it sends (the queues, or
-- an empty payload when they would not fit) is tested in
-- tests/py/integration/test_finding8_notify_per_workspace.py.
BEGIN;
select plan(9);

create function pg_temp.plan_of(statement text) returns text language plpgsql as $$
declare
  line text;
  plan text := '';
begin
  for line in execute 'explain (verbose, costs off) ' || statement loop
    plan := plan || line || E'\n';
  end loop;
  return plan;
end
$$;

select unalike(pg_temp.plan_of($$select collab.notify_jobs('00000000-0000-0000-0000-000000000001', array['a', 'b'])$$),
  '%notify_jobs%', 'a call of collab.notify_jobs is inlined: the plan does not call it');
select alike(pg_temp.plan_of($$select collab.notify_jobs('00000000-0000-0000-0000-000000000001', array['a', 'b'])$$),
  '%pg_notify%', 'the plan calls pg_notify itself');
select unalike(pg_temp.plan_of($$select collab.notify_jobs(w.id, array[w.id::text, w.id::text])
                                 from collab.workspaces w$$),
  '%notify_jobs%', 'inlined too with arguments from a row, as the triggers call it');

select unalike(pg_temp.plan_of($$select collab.notify_jobs('00000000-0000-0000-0000-000000000001', array['a', 'b'])$$),
  '%queue_list%', 'collab.queue_list is inlined into it in turn');
select unalike(pg_temp.plan_of($$select collab.notify_events(w.id) from collab.workspaces w$$),
  '%notify_events%', 'collab.notify_events is inlined: the plan calls collab.notify_throttled, the one PL/pgSQL call');
select alike(pg_temp.plan_of($$select collab.notify_events(w.id) from collab.workspaces w$$),
  '%notify_throttled%', 'and the window is that call');
select unalike(pg_temp.plan_of($$select collab.notify_jobs_later(w.id, array[w.id::text], array[1::bigint])
                                 from collab.workspaces w$$),
  '%notify_jobs_later%', 'collab.notify_jobs_later is inlined too');

select unalike(pg_temp.plan_of($$select array_agg(distinct collab.due_in_ms(w.created_at, now()) order by collab.due_in_ms(w.created_at, now()))
                                 from collab.workspaces w$$),
  '%due_in_ms%', 'collab.due_in_ms is inlined into an aggregate, as the triggers call it');

select unalike(pg_temp.plan_of($$select collab.statement_clock()$$), '%statement_clock%',
  'collab.statement_clock is inlined: the plan reads the clocks itself');

select * from finish();
ROLLBACK;
