-- Where realtime.send exists (Supabase), each statement that writes events broadcasts them
-- once per workspace on topic workspace:<id>:events; a big statement sends a summary with
-- its cursor range. Plain Postgres has no broadcast trigger at all. (realtime.send is a
-- stand-in here that records its calls.)
BEGIN;
select plan(9);

select is(collab.enable_realtime_broadcast(), false, 'plain Postgres: nothing to attach');
select is((select count(*)::integer from pg_trigger where tgname = 'job_events_broadcast'), 0,
  'and no broadcast trigger on job_events');
select is(to_regprocedure('collab.broadcast_events()'), null, 'nor its trigger function');

create schema realtime;
create table realtime.sent (payload jsonb, event text, topic text, private boolean);
create function realtime.send(payload jsonb, event text, topic text, private boolean default true)
returns void language sql as $$ insert into realtime.sent values (payload, event, topic, private) $$;

select is(collab.enable_realtime_broadcast(), true, 'with realtime.send: the trigger is attached');

select api.enqueue_batch('[{"queue": "rt", "type": "a"}, {"queue": "rt", "type": "b"}]');
select results_eq($$select event, topic, private, jsonb_array_length(payload -> 'events') from realtime.sent$$,
  $$values ('job_events', 'workspace:' || collab.default_workspace_id() || ':events', true, 2)$$,
  'one statement, one workspace: one private message carrying both events');
select is((select payload -> 'events' -> 0 ->> 'type' from realtime.sent), 'enqueued', 'each event as api.event shapes it');
select ok((select payload -> 'events' -> 1 ? 'cursor' from realtime.sent), 'with its cursor');

delete from realtime.sent;
select api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', 'rt', 'type', 'c')) from generate_series(1, 150)));
select results_eq($$select (payload ->> 'count')::integer, payload ? 'events',
                          payload ->> 'first_cursor' <> payload ->> 'last_cursor' from realtime.sent$$,
  $$values (150, false, true)$$, 'a statement of 150 events: a summary with the cursor range');

delete from realtime.sent;
select api.register_executor('rt-worker', array['rt']);
select is((select payload -> 'events' -> 0 ->> 'type' from realtime.sent), 'executor_online',
  'presence events are broadcast too');

select * from finish();
ROLLBACK;
