-- api.list_jobs never scans collab.jobs or collab.job_history sequentially: with 10^6 jobs
-- (live in collab.jobs, finished in the partitions of collab.job_history; a second workspace,
-- mostly finished, 10 queues, 20 types, 50 executors over 30 days) every combination of its
-- filters, for every status, is planned on an index. The statements are exactly the ones it
-- runs (collab.list_jobs_query), planned with real values as its EXECUTE ... USING does and
-- with the planner settings of its SET clauses (all but search_path: the statements name
-- their schemas, and pgTAP lives in public).
BEGIN;
select plan(4);

alter table collab.jobs disable trigger user;  -- no events needed for plans; rolled back
alter table collab.job_history disable trigger user;
insert into collab.workspaces (id, name) values ('bbbbbbbb-0000-0000-0000-00000000000b', 'plans-b');
-- Queued and running jobs live in collab.jobs, finished ones in collab.job_history (today's
-- partition and, for the 29 days before it, the default one).
create temp table generated as
select nextval('collab.jobs_id_seq'::regclass) as id,
       case when i % 10 = 0 then 'bbbbbbbb-0000-0000-0000-00000000000b'::uuid else collab.default_workspace_id() end as workspace_id,
       'q' || (i % 10) as queue, 't' || (i % 20) as type, '{}'::jsonb as payload, 0 as priority,
       s::collab.job_status as status,
       case s when 'queued' then 'enqueued' when 'running' then 'claimed' else s end::collab.job_event_type as last_event,
       c as run_at, case when s = 'queued' then 0 else 1 end as attempt, 5 as max_attempts, null::text as idempotency_key,
       case when s <> 'queued' then ('00000000-0000-0000-0000-0000000000' || lpad((i % 50)::text, 2, '0'))::uuid end as executor_id,
       case when s <> 'queued' then gen_random_uuid() end as lease_token, null::integer as lease_seconds,
       case when s = 'running' then c + interval '1 hour' end as lease_expires_at, false as cancel_requested,
       null::numeric as progress, null::text as progress_message, null::jsonb as result, null::jsonb as last_error,
       c as created_at, case when s <> 'queued' then c end as claimed_at,
       case when s in ('succeeded', 'dead', 'cancelled') then c + interval '1 second' end as finished_at
  from generate_series(1, 1000000) i
  cross join lateral (select now() - interval '30 days' * (1 - i / 1000000.0) as c,
                             case when i % 100 = 0 then 'queued' when i % 1000 = 1 then 'running'
                                  when i % 100 = 2 then 'dead' when i % 200 = 3 then 'cancelled'
                                  else 'succeeded' end as s) x;
insert into collab.jobs overriding system value
select * from generated where status in ('queued', 'running');
insert into collab.job_history
select * from generated where status in ('succeeded', 'cancelled', 'dead');
analyze collab.jobs;
analyze collab.job_history;
select is((select count(*)::integer from tests.all_jobs), 1000000, 'a million jobs');

create temp table plans (combination integer, status text, seq_scan boolean);
do $explain$
declare
  combo integer;
  st text;
  sql text;
  plan jsonb;
begin
  perform set_config(split_part(c, '=', 1), substr(c, strpos(c, '=') + 1), true)
     from unnest((select p.proconfig from pg_proc p
                   where p.oid = 'api.list_jobs(text, text, text, uuid, timestamptz, timestamptz, text, integer)'::regprocedure)) c
    where c not like 'search_path=%';
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
      -- A sequential scan of a table holding rows (an empty day partition ahead costs nothing).
      insert into plans values (combo, st, exists (
        select 1 from jsonb_path_query(plan, 'strict $.** ? (@."Node Type" == "Seq Scan")."Relation Name"') r
          join pg_class c on c.relname = r #>> '{}' and c.relnamespace = 'collab'::regnamespace
         where c.reltuples > 0));
    end loop;
    execute format('deallocate list_jobs_%s', combo);
  end loop;
end
$explain$;

select is(current_setting('enable_seqscan'), 'off',
  'planned with the settings api.list_jobs runs with: no sequential scans');
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
          null, 'no combination scans collab.jobs or a partition of collab.job_history sequentially');

select * from finish();
ROLLBACK;
