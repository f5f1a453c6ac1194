-- The authorization matrix: every api function × every kind of caller has one expected
-- outcome ('ok' or the SQLSTATE, with the reason for PT errors). The list of functions is
-- checked against the catalog, so a new api function without a row fails this file.
-- Callers: anon; viewer, member, admin of workspace A; executor (a member of A running
-- exec-a); other_workspace (an admin of B, acting in B, handed A's ids); service_role (in A).
-- Each call runs in its own subtransaction and is undone, so all see the same fixture.
BEGIN;
select tests.tenancy_fixture();

create temp table matrix (fn text primary key, call text, anon text, viewer text, member text,
                          admin text, executor text, other_workspace text, service_role text);
-- %1$s queued job of A, %2$s running job of A (held by exec-a), %3$s its lease token,
-- %4$s exec-a, %5$s dead job of A
insert into matrix values
  ('accept_invitation', $$select api.accept_invitation('aaaaaaaa-0000-0000-0000-00000000000a')$$,
   '42501', 'PT404 invitation_not_found', 'PT404 invitation_not_found', 'PT404 invitation_not_found',
   'PT404 invitation_not_found', 'PT404 invitation_not_found', 'PT403 forbidden'),
  ('add_member', $$select api.add_member('77777777-7777-7777-7777-777777777777', 'viewer')$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT403 forbidden', 'ok', 'ok'),
  ('cancel', $$select api.cancel(%1$s)$$,
   '42501', 'PT403 forbidden', 'ok', 'ok', 'ok', 'PT404 job_not_found', 'ok'),
  ('check_invariants', $$select api.check_invariants()$$,
   '42501', '42501', '42501', '42501', '42501', '42501', 'ok'),
  ('claim', $$select api.claim('%4$s', array['q'], 1, 30)$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT404 executor_not_found', 'ok'),
  ('complete', $$select api.complete(%2$s, '%3$s', '{}')$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT404 job_not_found', 'ok'),
  ('complete_batch', $$select api.complete_batch('[{"job_id": %2$s, "lease_token": "%3$s"}]')$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'ok', 'ok'),
  ('configure_rate_limit', $$select api.configure_rate_limit('claim', 'executor', 10)$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT403 forbidden', 'ok', 'ok'),
  ('configure_limits', $$select api.configure_limits(queues => 50)$$,
   '42501', '42501', '42501', '42501', '42501', '42501', 'ok'),
  ('configure_queue', $$select api.configure_queue('q', lease_seconds => 60)$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT403 forbidden', 'ok', 'ok'),
  ('configure_workspace', $$select api.configure_workspace(max_payload_bytes => 2048)$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT403 forbidden', 'ok', 'ok'),
  ('create_workspace', $$select api.create_workspace('brand-new')$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('decline_invitation', $$select api.decline_invitation('aaaaaaaa-0000-0000-0000-00000000000a')$$,
   '42501', 'PT404 invitation_not_found', 'PT404 invitation_not_found', 'PT404 invitation_not_found',
   'PT404 invitation_not_found', 'PT404 invitation_not_found', 'PT403 forbidden'),
  ('end_turn', $$select api.end_turn()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('enqueue', $$select api.enqueue('q', 't')$$,
   '42501', 'PT403 forbidden', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('enqueue_batch', $$select api.enqueue_batch('[{"queue": "q", "type": "t"}]')$$,
   '42501', 'PT403 forbidden', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('events_since', $$select * from api.events_since()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('events_head', $$select api.events_head()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('fail', $$select api.fail(%2$s, '%3$s', '{}')$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT404 job_not_found', 'ok'),
  ('get_job', $$select api.get_job(%1$s)$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'PT404 job_not_found', 'ok'),
  ('get_limits', $$select api.get_limits()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('heartbeat', $$select api.heartbeat('%4$s')$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT404 executor_not_found', 'ok'),
  ('leave_workspace', $$select api.leave_workspace()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'PT403 forbidden'),
  ('list_executors', $$select * from api.list_executors()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('list_invitations', $$select * from api.list_invitations()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'PT403 forbidden'),
  ('list_jobs', $$select * from api.list_jobs()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('list_queues', $$select * from api.list_queues()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('may_receive', $$select api.may_receive('workspace:aaaaaaaa-0000-0000-0000-00000000000a:events')$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('metrics_prometheus', $$select api.metrics_prometheus()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('metrics_summary', $$select api.metrics_summary()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('pause_queue', $$select api.pause_queue('q')$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT403 forbidden', 'ok', 'ok'),
  ('progress', $$select api.progress(%2$s, '%3$s', 50)$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT404 job_not_found', 'ok'),
  ('purge_dead', $$select api.purge_dead()$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT403 forbidden', 'ok', 'ok'),
  ('purge_events', $$select api.purge_events()$$,
   '42501', '42501', '42501', '42501', '42501', '42501', 'ok'),
  ('reap', $$select api.reap()$$,
   '42501', '42501', '42501', '42501', '42501', '42501', 'ok'),
  ('register_executor', $$select api.register_executor('new-exec', array['q'])$$,
   '42501', 'PT403 forbidden', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('remove_member', $$select api.remove_member('11111111-1111-1111-1111-111111111111')$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT403 forbidden', 'PT404 member_not_found', 'ok'),
  ('requeue', $$select api.requeue(array[%5$s]::bigint[])$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT403 forbidden', 'PT404 job_not_found', 'ok'),
  ('resume_queue', $$select api.resume_queue('q')$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT403 forbidden', 'ok', 'ok'),
  ('wait_turn', $$select api.wait_turn('%4$s', array['q'], 0)$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'PT403 forbidden', 'PT400 invalid_input', 'PT404 executor_not_found',
   'PT400 invalid_input'),  -- the callers' checks, then no session lock through the REST API
  ('whoami', $$select api.whoami()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  -- artifacts and the Edge Functions' quota and overview (issue 14)
  ('put_artifact', $$select api.put_artifact('m.txt', 'eA==', 'text/plain', %1$s)$$,
   '42501', 'PT403 forbidden', 'ok', 'ok', 'ok', 'PT404 job_not_found', 'ok'),
  ('get_artifact', $$select api.get_artifact(-1)$$,
   '42501', 'PT404 artifact_not_found', 'PT404 artifact_not_found', 'PT404 artifact_not_found',
   'PT404 artifact_not_found', 'PT404 artifact_not_found', 'PT404 artifact_not_found'),
  ('list_artifacts', $$select * from api.list_artifacts()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('delete_artifact', $$select api.delete_artifact(-1)$$,
   '42501', 'PT403 forbidden', 'PT404 artifact_not_found', 'PT404 artifact_not_found',
   'PT404 artifact_not_found', 'PT404 artifact_not_found', 'PT404 artifact_not_found'),
  ('sign_artifact', $$select api.sign_artifact(-1)$$,
   '42501', 'PT404 artifact_not_found', 'PT404 artifact_not_found', 'PT404 artifact_not_found',
   'PT404 artifact_not_found', 'PT404 artifact_not_found', 'PT404 artifact_not_found'),
  ('download_artifact', $$select api.download_artifact('artifacts/x', 'not-a-token')$$,
   '42501', '42501', '42501', '42501', '42501', '42501', 'PT400 invalid_token'),
  ('function_quota', $$select api.function_quota('jobs-recent')$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('metrics_overview', $$select api.metrics_overview()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok');

-- LLM routing and the key vault (issue 15): every vault function is the service role's only.
insert into matrix values
  ('put_route', $$select api.put_route('chat', 'r1', 'p', 'm')$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT403 forbidden', 'ok', 'ok'),
  ('list_routes', $$select * from api.list_routes()$$,
   '42501', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('configure_routing', $$select api.configure_routing('chat', 'cost')$$,
   '42501', 'PT403 forbidden', 'PT403 forbidden', 'ok', 'PT403 forbidden', 'ok', 'ok'),
  ('rank_routes', $$select api.rank_routes('chat')$$,
   '42501', 'PT403 forbidden', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('record_route_outcome', $$select api.record_route_outcome(0, 'r1', 200)$$,
   '42501', 'PT403 forbidden', 'PT404 snapshot_not_found', 'PT404 snapshot_not_found',
   'PT404 snapshot_not_found', 'PT404 snapshot_not_found', 'PT404 snapshot_not_found'),
  ('routing_snapshot', $$select api.routing_snapshot('chat')$$,
   '42501', 'PT404 snapshot_not_found', 'PT404 snapshot_not_found', 'PT404 snapshot_not_found',
   'PT404 snapshot_not_found', 'PT404 snapshot_not_found', 'PT404 snapshot_not_found'),
  ('put_secret', $$select api.put_secret('k', '')$$,
   '42501', '42501', '42501', '42501', '42501', '42501', 'PT400 invalid_input'),
  ('read_secret', $$select api.read_secret('nope', 'bogus')$$,
   '42501', '42501', '42501', '42501', '42501', '42501', 'PT400 invalid_input'),
  ('delete_secret', $$select api.delete_secret('nope')$$,
   '42501', '42501', '42501', '42501', '42501', '42501', 'PT404 secret_not_found'),
  ('restore_secret', $$select api.restore_secret('nope')$$,
   '42501', '42501', '42501', '42501', '42501', '42501', 'PT404 secret_not_found'),
  ('list_secrets', $$select * from api.list_secrets()$$,
   '42501', '42501', '42501', '42501', '42501', '42501', 'ok'),
  ('secret_audit', $$select * from api.secret_audit()$$,
   '42501', '42501', '42501', '42501', '42501', '42501', 'ok'),
  ('configure_vault', $$select api.configure_vault('production')$$,
   '42501', '42501', '42501', '42501', '42501', '42501', 'ok'),
  ('rewrap_secrets', $$select api.rewrap_secrets(0)$$,
   '42501', '42501', '42501', '42501', '42501', '42501', 'PT400 invalid_input'),
  -- search (issue 16): no collection in the fixture, so search and drop find none
  ('index_documents', $$select api.index_documents('notes', '[{"key": "a", "body": "a note"}]')$$,
   '42501', 'PT403 forbidden', 'ok', 'ok', 'ok', 'ok', 'ok'),
  ('search', $$select * from api.search('notes', 'note')$$,
   '42501', 'PT404 collection_not_found', 'PT404 collection_not_found', 'PT404 collection_not_found',
   'PT404 collection_not_found', 'PT404 collection_not_found', 'PT404 collection_not_found'),
  ('drop_collection', $$select api.drop_collection('notes')$$,
   '42501', 'PT403 forbidden', 'PT404 collection_not_found', 'PT404 collection_not_found',
   'PT404 collection_not_found', 'PT404 collection_not_found', 'PT404 collection_not_found');

create temp table callers (caller text primary key, role text, claims jsonb);
insert into callers values
  ('anon', 'anon', '{}'),
  ('viewer', 'authenticated', jsonb_build_object('sub', tests.id('viewer'))),
  ('member', 'authenticated', jsonb_build_object('sub', tests.id('member'))),
  ('admin', 'authenticated', jsonb_build_object('sub', tests.id('admin'))),
  ('executor', 'authenticated', jsonb_build_object('sub', tests.id('executor'))),
  ('other_workspace', 'authenticated', jsonb_build_object('sub', tests.id('outsider'))),
  ('service_role', 'service_role', jsonb_build_object('workspace_id', tests.id('workspace_a')));

-- Run every call as every caller; a successful call is undone by raising 'ZZ001'.
create temp table outcomes (fn text, caller text, expected text, got text);
do $run$
declare
  m record;
  c record;
  statement text;
  got text;
  state text;
  detail text;
begin
  for m in select * from matrix loop
    statement := format(m.call, tests.job('a', 'queued'), tests.job('a', 'running'),
                        tests.token('a', 'running'), tests.id('exec_a'), tests.job('a', 'doomed'));
    for c in select * from callers loop
      begin
        perform tests.as_request(c.role, c.claims);
        execute statement;
        raise exception using errcode = 'ZZ001';
      exception when others then
        get stacked diagnostics state = returned_sqlstate, detail = pg_exception_detail;
        got := case when state = 'ZZ001' then 'ok'
                    when state like 'PT%' then state || ' ' || coalesce((detail::jsonb) ->> 'reason', '?')
                    else state end;
      end;
      insert into outcomes values (m.fn, c.caller, to_jsonb(m) ->> c.caller, got);
    end loop;
  end loop;
end
$run$;

select plan((select count(*)::integer + 2 from matrix));

select set_eq(
  $$select p.proname::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'api'$$,
  $$select fn from matrix$$,
  'every function of schema api has one row in the authorization matrix, and every row a function');
select is((select count(*)::integer from outcomes where expected is null), 0, 'every row names an outcome for every caller');

select is(
  (select string_agg(format('%s: expected %s, got %s', o.caller, o.expected, o.got), '; ' order by o.caller)
     from outcomes o where o.fn = m.fn and o.got is distinct from o.expected),
  null,
  format('api.%s: anon %s, viewer %s, member %s, admin %s, executor %s, other workspace %s, service_role %s',
         m.fn, m.anon, m.viewer, m.member, m.admin, m.executor, m.other_workspace, m.service_role))
  from matrix m order by m.fn;

select * from finish();
ROLLBACK;
