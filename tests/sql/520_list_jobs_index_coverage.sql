-- api.list_jobs never scans collab.jobs sequentially: with 10^6 jobs (a second workspace,
-- mostly finished, 10 queues, 20 types, 50 executors over 30 days) every combination of its
-- filters, for every status, is planned on an index. The statements are exactly the ones it
-- runs (collab.list_jobs_query), planned with real values as its EXECUTE ... USING does.
BEGIN;
select plan(3);

alter table collab.jobs disable trigger user;  -- no events needed for plans; rolled back
insert into collab.workspaces (id, name) values ('bbbbbbbb-0000-0000-0000-00000000000b', 'plans-b');
insert into collab.jobs (workspace_id, queue, type, status, last_event, run_at, attempt, max_attempts,
                         executor_id, lease_token, lease_expires_at, created_at, claimed_at, finished_at)
select case when i % 10 = 0 then 'bbbbbbbb-0000-0000-0000-00000000000b'::uuid else collab.default_workspace_id() end,
       'q' || (i % 10), 't' || (i % 20), s::collab.job_status,
       case s when 'queued' then 'enqueued' when 'running' then 'claimed' else s end::collab.job_event_type,
       c, case when s = 'queued' then 0 else 1 end, 5,
       case when s <> 'queued' then ('00000000-0000-0000-0000-0000000000' || lpad((i % 50)::text, 2, '0'))::uuid end,
       case when s <> 'queued' then gen_random_uuid() end,
       case when s = 'running' then c + interval '1 hour' end,
       c, case when s <> 'queued' then c end,
       case when s in ('succeeded', 'dead', 'cancelled') then c + interval '1 second' end
  from generate_series(1, 1000000) i
  cross join lateral (select now() - interval '30 days' * (1 - i / 1000000.0) as c,
                             case when i % 100 = 0 then 'queued' when i % 1000 = 1 then 'running'
                                  when i % 100 = 2 then 'dead' when i % 200 = 3 then 'cancelled'
                                  else 'succeeded' end as s) x;
analyze collab.jobs;
select is((select count(*)::integer from collab.jobs), 1000000, 'a million jobs');

create temp table plans (combination integer, status text, seq_scan boolean);
do $explain$
declare
  combo integer;
  st text;
  sql text;
  plan jsonb;
begin
  for combo in 0..127 loop
    sql := collab.list_jobs_query((combo & 1) > 0, (combo & 2) > 0, (combo & 4) > 0, (combo & 8) > 0,
                                  (combo & 16) > 0, (combo & 32) > 0, (combo & 64) > 0);
    execute format('prepare list_jobs_%s(uuid, collab.job_status, text, text, uuid, timestamptz,'
                   ' timestamptz, timestamptz, bigint, integer) as %s', combo, sql);
    foreach st in array case when (combo & 1) > 0
                             then array['queued', 'running', 'succeeded', 'cancelled', 'dead']
                             else array['any'] end loop
      execute format('explain (format json) execute list_jobs_%s(%L, %L, %L, %L, %L, %L, %L, %L, %L, %L)',
                     combo, collab.default_workspace_id(), case when st = 'any' then 'queued' else st end,
                     't3', 'q3', '00000000-0000-0000-0000-000000000013', now() - interval '10 days',
                     now() - interval '5 days', now() - interval '7 days', 500000, 50)
        into plan;
      insert into plans values (combo, st, jsonb_path_exists(plan,
        'strict $.** ? (@."Node Type" == "Seq Scan" && @."Relation Name" == "jobs")'));
    end loop;
    execute format('deallocate list_jobs_%s', combo);
  end loop;
end
$explain$;

select is((select count(*)::integer from plans), 64 + 64 * 5, 'every filter combination, for every status, was planned');
select is((select string_agg(format('%s%s%s%s%s%s%s (%s)',
                   case when combination & 1 > 0 then 'status ' else '' end,
                   case when combination & 2 > 0 then 'type ' else '' end,
                   case when combination & 4 > 0 then 'queue ' else '' end,
                   case when combination & 8 > 0 then 'executor_id ' else '' end,
                   case when combination & 16 > 0 then 'created_after ' else '' end,
                   case when combination & 32 > 0 then 'created_before ' else '' end,
                   case when combination & 64 > 0 then 'after ' else '' end, status), '; ')
             from plans where seq_scan),
          null, 'no combination scans collab.jobs sequentially');

select * from finish();
ROLLBACK;
