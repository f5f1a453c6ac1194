-- Where realtime.send exists (Supabase), each statement that writes events broadcasts them
-- once per workspace on topic workspace:<id>:events; a big statement sends a summary with
-- its cursor range. Plain Postgres has no broadcast trigger at all. (realtime.send is a
-- stand-in here that records its calls.)
BEGIN;
select plan(14);

select is(collab.enable_realtime_broadcast(), false, 'plain Postgres: nothing to attach');
select is((select count(*)::integer from pg_trigger where tgname = 'job_events_broadcast'), 0,
  'and no broadcast trigger on job_events');
select is(to_regprocedure('collab.broadcast_events()'), null, 'nor its trigger function');

create schema realtime;
create table realtime.sent (payload jsonb, event text, topic text, private boolean);
create function realtime.send(payload jsonb, event text, topic text, private boolean default true)
returns void language sql as $$ insert into realtime.sent values (payload, event, topic, private) $$;

-- Supabase's realtime.messages and realtime.topic(), as stand-ins (the channel's topic is a setting).
create table realtime.messages (topic text, extension text, payload jsonb);
alter table realtime.messages enable row level security;
grant usage on schema realtime to authenticated;
grant select on realtime.messages to authenticated;
create function realtime.topic() returns text language sql stable as $$ select current_setting('realtime.topic', true) $$;
grant execute on function realtime.topic() to authenticated;

select is(collab.enable_realtime_broadcast(), true, 'with realtime.send: the trigger is attached');
select is((select count(*)::integer from pg_policy where polname = 'collab_workspace_events_receive'
            and polrelid = 'realtime.messages'::regclass), 1,
  'and realtime.messages gets the policy that decides who receives a workspace''s topic');

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

select tests.tenancy_fixture();
insert into realtime.messages values
  ('workspace:' || tests.id('workspace_a') || ':events', 'broadcast', '{}'),
  ('workspace:' || tests.id('workspace_b') || ':events', 'broadcast', '{}');
select tests.authenticate_as(tests.id('viewer'));
select set_config('realtime.topic', 'workspace:' || tests.id('workspace_a') || ':events', true);
select ok((select count(*) from realtime.messages) > 0, 'a viewer of A, joining A''s topic, may receive (Realtime''s join check reads realtime.messages)');
select set_config('realtime.topic', 'workspace:' || tests.id('workspace_b') || ':events', true);
select is((select count(*)::integer from realtime.messages), 0, 'joining B''s topic, nothing is readable: the join is refused');
select set_config('realtime.topic', 'workspace:' || tests.id('workspace_a') || ':events', true);
select tests.authenticate_as(tests.id('outsider'));
select is((select count(*)::integer from realtime.messages), 0, 'an outsider receives nothing of A''s topic');
select is(api.may_receive('workspace:' || tests.id('workspace_b') || ':events or more'), false,
  'only exact topics of the form workspace:<id>:events are recognised');

select * from finish();
ROLLBACK;
