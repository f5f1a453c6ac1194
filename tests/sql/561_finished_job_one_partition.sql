-- collab.finished_job finds a finished job by workspace and id in the one history partition
-- its last terminal event names (the event and the move share collab.clock()), so a lookup by
-- id reads one partition, not each in turn until one holds it; without that event (purged)
-- it probes them in turn and still finds the job. api.get_job, a repeated api.complete and
-- api.cancel of a finished job read through it, and so do api.complete_batch's repeats (their
-- answer and their fencing count) and the owner check of a signed-in caller's repeat.
BEGIN;
select plan(25);

-- Scans of the history partitions made in this transaction so far (sequential scans of a
-- partition and scans of any of its indexes: the planner may take the status index for an id
-- on a small partition), and the scans a statement makes.
create function pg_temp.history_probes() returns bigint language sql as $$
  select sum(pg_stat_get_xact_numscans(r.oid))::bigint
    from pg_inherits i
    join pg_class r on r.oid = i.inhrelid
                    or r.oid in (select x.indexrelid from pg_index x where x.indrelid = i.inhrelid)
   where i.inhparent = 'collab.job_history'::regclass
$$;
create function pg_temp.probes_of(statement text) returns bigint language plpgsql as $$
declare
  before bigint := pg_temp.history_probes();
begin
  execute statement;
  return pg_temp.history_probes() - before;
end
$$;
create temp table worker as select api.register_executor('finder', array['find']) as id;
-- Enqueue, claim and complete (or fail for good) a job now (collab.clock()); returns its id.
create function pg_temp.finish(dead boolean default false) returns bigint language plpgsql as $$
declare
  c api.claimed_job;
begin
  perform api.enqueue('find', 't');
  select * into c from api.claim((select id from worker), array['find'], 1, 30);
  if dead then
    perform api.fail(c.id, c.lease_token, '{"e": "boom"}', retryable => false);
  else
    perform api.complete(c.id, c.lease_token, '{"ok": true}');
  end if;
  return c.id;
end
$$;
create function pg_temp.finish_on(d integer) returns bigint language plpgsql as $$
declare
  id bigint;
begin
  perform set_config('collab.clock_offset', d || ' days', true);
  id := pg_temp.finish();
  perform set_config('collab.clock_offset', '0', true);
  return id;
end
$$;

-- A finished job in each day partition (an index scan of an empty one counts no scan).
create temp table filler as
  select d, pg_temp.finish_on(d) as id from generate_series(0, 7) d;
-- The job under test finished five days on: probed in turn, six partitions would be read.
create temp table job as select 'done' as name, pg_temp.finish_on(5) as id;
create temp table ws as select workspace_id as id from collab.job_history where id = (select id from job);

select is((select count(distinct tableoid)::integer from collab.job_history where id in (select id from filler)), 8,
  'the history has a partition for today and each of the next 7 days, each holding a job');
select is((collab.finished_job((select id from ws), (select id from job where name = 'done'))).status,
  'succeeded'::collab.job_status, 'a finished job is found by workspace and id');
select is(pg_temp.probes_of(format('select collab.finished_job(%L, %s)', (select id from ws), (select id from job where name = 'done'))),
  1::bigint, 'reading one partition, not the six up to its day');
select is(pg_temp.probes_of(format('select api.get_job(%s)', (select id from job where name = 'done'))),
  1::bigint, 'api.get_job of a finished job reads one partition');
select is(pg_temp.probes_of(format('select api.complete(%s, %L, %L)', (select id from job where name = 'done'),
            (select lease_token from collab.job_history where id = (select id from job where name = 'done')), '{"ok": true}')),
  1::bigint, 'so does a repeated api.complete');
-- Generic plans (the session plans the read once; it is pruned to one partition when it
-- starts): past plpgsql's five custom plans, ten more calls still read one partition each.
select ok((select 'plan_cache_mode=force_generic_plan' = any(proconfig) from pg_proc
            where oid = 'collab.finished_job(uuid, bigint)'::regprocedure), 'collab.finished_job runs with generic plans');
select is(pg_temp.probes_of(format('select collab.finished_job(%L, %s) from generate_series(1, 10)',
            (select id from ws), (select id from job where name = 'done'))),
  10::bigint, 'ten calls read ten partitions');
select throws_ok(format('select api.cancel(%s)', (select id from job where name = 'done')), 'PT409', null,
  'api.cancel of a finished job still refuses it');
select is((select api.get_job((select id from job where name = 'done')) ->> 'status'), 'succeeded',
  'api.get_job returns it');

-- A job finished on another day is in that day's partition, and found there.
set local collab.clock_offset = '3 days';
insert into job select 'later', pg_temp.finish();
select is((collab.finished_job((select id from ws), (select id from job where name = 'later'))).finished_at,
  collab.clock(), 'a job finished three days on is found, with its finished_at');
select is(pg_temp.probes_of(format('select collab.finished_job(%L, %s)', (select id from ws), (select id from job where name = 'later'))),
  1::bigint, 'in one partition');

-- Dead, requeued and finished again: the last terminal event names the row that is stored.
set local collab.clock_offset = '0';
insert into job select 'replayed', pg_temp.finish(dead => true);
select api.requeue(array[(select id from job where name = 'replayed')]);
set local collab.clock_offset = '5 days';
select api.complete(c.id, c.lease_token) from api.claim((select id from worker), array['find'], 1, 30) c;
select is((collab.finished_job((select id from ws), (select id from job where name = 'replayed'))).status,
  'succeeded'::collab.job_status, 'a job that died, was requeued and succeeded is found as it is now');
select is(pg_temp.probes_of(format('select collab.finished_job(%L, %s)', (select id from ws), (select id from job where name = 'replayed'))),
  1::bigint, 'in one partition');

-- Without its events (retention removed them), the partitions are probed in order (today's,
-- then each day on, each holding a job) until one holds it, and the job is found.
delete from collab.job_events where job_id = (select id from job where name = 'later');
select is((collab.finished_job((select id from ws), (select id from job where name = 'later'))).id,
  (select id from job where name = 'later'), 'a job whose events are gone is still found');
select is(pg_temp.probes_of(format('select collab.finished_job(%L, %s)', (select id from ws), (select id from job where name = 'later'))),
  4::bigint, 'by probing the partitions up to its day');

select ok((collab.finished_job((select id from ws), -1)).id is null, 'no such job: every column null');
select ok((collab.finished_job(gen_random_uuid(), (select id from job where name = 'later'))).id is null,
  'another workspace''s job is not found');

-- api.complete_batch: an item whose job has finished is judged from the one partition its
-- event names (the old join read every partition for it); a stale token also counts its
-- fencing rejection by the job's queue and type, read the same way.
set local collab.clock_offset = '0';
create temp table fenced as
  select coalesce(sum(s.count), 0)::integer as n from collab.metrics_signals s
   where s.workspace_id = (select id from ws) and s.kind = 'fencing_rejection' and s.queue = 'find';
select is(pg_temp.probes_of(format($$select api.complete_batch('[{"job_id": %s, "lease_token": "%s"}]')$$,
            (select id from job where name = 'done'),
            (select lease_token from collab.job_history where id = (select id from job where name = 'done')))),
  1::bigint, 'a repeated item of api.complete_batch reads one partition');
select is((select ok from api.complete_batch(format('[{"job_id": %s, "lease_token": "%s"}]',
            (select id from job where name = 'done'),
            (select lease_token from collab.job_history where id = (select id from job where name = 'done')))::jsonb)),
  true, 'and is ok again');
select is(pg_temp.probes_of(format($$select api.complete_batch('[{"job_id": %s, "lease_token": "%s"}]')$$,
            (select id from job where name = 'done'), gen_random_uuid())),
  2::bigint, 'an item with a stale token reads it twice: its answer and its fencing count');
select is((select reason from api.complete_batch(format('[{"job_id": %s, "lease_token": "%s"}]',
            (select id from job where name = 'done'), gen_random_uuid())::jsonb)),
  'lease_lost', 'and is lease_lost');
select is((select sum(s.count)::integer from collab.metrics_signals s
            where s.workspace_id = (select id from ws) and s.kind = 'fencing_rejection' and s.queue = 'find'
              and s.job_type = 't') - (select n from fenced),
  2, 'counted as fencing rejections of its queue (one for each of the two calls)');

-- A signed-in caller: the owner check of a repeat reads the history the same way.
select tests.tenancy_fixture();
create temp table fx as select tests.job('a', 'running') as id, tests.token('a', 'running') as token;
grant select on fx to authenticated;
select tests.authenticate_as(tests.id('executor'));
select api.complete((select id from fx), (select token from fx));
select is(pg_temp.probes_of(format('select api.complete(%s, %L)', (select id from fx), (select token from fx))),
  2::bigint, 'a signed-in repeat of api.complete reads one partition for the owner check, one for the answer');
select is((api.complete((select id from fx), (select token from fx))).status::text, 'succeeded',
  'and is answered with the finished job');
select tests.authenticate_as(tests.id('member'));
select is(tests.outcome(format('select api.complete(%s, %L)', (select id from fx), (select token from fx))) ->> 'reason',
  'forbidden', 'another user repeating it, with its token: forbidden, found in the history');
reset role;

select * from finish();
ROLLBACK;
