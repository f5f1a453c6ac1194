-- collab.job_history is partitioned by UTC day of finished_at. collab.ensure_job_history_partitions
-- keeps day partitions ahead (the migration and every reap call it); the default partition
-- takes any row no day covers, and gives it up to the day's partition once one is made.
-- collab.purge_job_history drops whole partitions that ended before the cutoff, with their
-- jobs' idempotency keys and events, deletes older rows of the default partition, and leaves
-- every younger partition alone.
BEGIN;
select plan(18);

create function pg_temp.day_partition(shift interval) returns text language sql as $$
  select 'job_history_' || to_char(((now() + shift) at time zone 'UTC')::date, 'YYYYMMDD')
$$;
-- The partition a finished job is stored in.
create function pg_temp.partition_of(job_id bigint) returns text language sql as $$
  select tableoid::regclass::text from collab.job_history where id = job_id
$$;
-- Enqueue a keyed job, claim and complete it now (collab.clock()); returns its id.
create function pg_temp.finish(key text) returns bigint language plpgsql as $$
declare
  j api.job := api.enqueue('part', 't', jsonb_build_object('k', key), idempotency_key => key);
  c api.claimed_job;
begin
  select * into c from api.claim((select id from worker), array['part'], 1, 30);
  perform api.complete(c.id, c.lease_token);
  return j.id;
end
$$;

create temp table worker as select api.register_executor('parter', array['part']) as id;

select is((select count(*)::integer from collab.job_history_partitions() p
            where p.partition::text in (select 'collab.' || pg_temp.day_partition(d * interval '1 day')
                                          from generate_series(0, 7) d)), 8,
  'the migration made a partition for today and each of the next 7 days');
select is(collab.ensure_job_history_partitions(7), 0, 'ensuring them again makes none');
select is((select count(*)::integer from collab.job_history_partitions() where from_at is null and to_at is null), 1,
  'and there is a default partition');

create temp table job as select 'today' as name, pg_temp.finish('key-today') as id;
select is(pg_temp.partition_of((select id from job where name = 'today')), 'collab.' || pg_temp.day_partition('0'),
  'a job finished today is in today''s partition');

set local collab.clock_offset = '10 days';
insert into job select 'day10', pg_temp.finish('key-day10');
set local collab.clock_offset = '30 days';
insert into job select 'day30', pg_temp.finish('key-day30');
select is(pg_temp.partition_of((select id from job where name = 'day30')), 'collab.job_history_default',
  'a job finished on a day without a partition lands in the default partition: the move never fails');
create temp table events_before as select count(*) as n from collab.job_events;
-- A partition whose locks are busy (an autovacuum of the default partition, which the rolled-
-- back fills of other test files leave full of dead rows) is left to the next call: call
-- again, as the reaper would a minute later.
create function pg_temp.ensure_until_made(days integer, wanted integer) returns integer language plpgsql as $$
declare
  made integer := 0;
begin
  for attempt in 1..40 loop
    made := made + collab.ensure_job_history_partitions(days);
    exit when made >= wanted;
    perform pg_sleep(0.25);
  end loop;
  return made;
end
$$;
select is(pg_temp.ensure_until_made(1, 2), 2, 'ensure 30 days on makes that day''s partition and the next');
select is(pg_temp.partition_of((select id from job where name = 'day30')), 'collab.' || pg_temp.day_partition('30 days'),
  'the row moved out of the default partition into its day');
select is((select count(*) from collab.job_events) - (select n from events_before), 0::bigint,
  'moving it wrote no event');
select tests.rls_enabled('collab');
set local collab.clock_offset = '20 days';
create function pg_temp.reap_until_partition(shift interval) returns boolean language plpgsql as $$
begin
  for attempt in 1..40 loop
    perform collab.reap();
    if exists (select 1 from collab.job_history_partitions() p
                where p.partition::text = 'collab.' || pg_temp.day_partition(shift)) then
      return true;
    end if;
    perform pg_sleep(0.25);
  end loop;
  return false;
end
$$;
select ok(pg_temp.reap_until_partition('27 days'), 'collab.reap keeps a week of partitions ahead');
-- ANALYZE holds a snapshot while it reads its sample: the history is analyzed from 3,000 rows
-- (statistics target 10 on every column), not 30,000 (revision 0030, docs/bench.md), and so
-- is every partition made since, which Postgres alone would give the default.
select is((select string_agg(format('%s.%s', a.attrelid::regclass, a.attname), ' '
                             order by a.attrelid::regclass::text, a.attnum)
             from pg_partition_tree('collab.job_history') t
             join pg_attribute a on a.attrelid = t.relid
            where a.attnum > 0 and not a.attisdropped and a.attstattarget is distinct from 10),
          null, 'every column of collab.job_history and of each partition, the new ones too, has statistics target 10');
set local collab.clock_offset = '30 days';
select ok((select has_table_privilege('service_role', 'collab.' || pg_temp.day_partition('31 days'), 'select, insert, delete')),
  'a new partition has the service role''s grants');

-- Retention, 31 days on, keeping 2 days: today's partition and the 7 after it end before the
-- cutoff (29 days on); the partitions of days 30 and 31 do not.
set local collab.clock_offset = '31 days';
select throws_ok($$select collab.purge_job_history(interval '1 hour')$$, 'PT400', null,
  'older_than under a day is refused');
select is(collab.purge_job_history(interval '2 days'), 2::bigint,
  'purge_job_history removes the jobs finished before the cutoff: one in a dropped partition, one in the default');
select is((select string_agg(p.partition::text, ' ' order by p.to_at) from collab.job_history_partitions() p
            where p.to_at is not null),
  'collab.' || pg_temp.day_partition('30 days') || ' collab.' || pg_temp.day_partition('31 days'),
  'every partition that ended before the cutoff was dropped, and only those');
select results_eq($$select name, exists (select 1 from collab.job_history h where h.id = job.id),
                          exists (select 1 from collab.idempotency_keys k where k.job_id = job.id),
                          exists (select 1 from collab.job_events e where e.job_id = job.id)
                     from job order by name$$,
  $$values ('day10', false, false, false), ('day30', true, true, true), ('today', false, false, false)$$,
  'the purged jobs are gone with their keys and events; the younger one keeps all of it');
select is((select duplicate from api.enqueue('part', 't', '{"k": "other"}', idempotency_key => 'key-today')), false,
  'a purged job''s key is free again');
select is((select count(*)::integer from collab.check_invariants()), 0, 'every invariant holds');

select * from finish();
ROLLBACK;
