-- Under a snapshot held open, the claim index keeps an entry for every job claimed since, and a
-- claim that starts at the head of its queue reads them all (docs/bench.md, section 9). Inside
-- one transaction the same holds for the jobs it claimed itself: their old row versions are
-- invisible to its later statements and cannot be removed, so this test builds such a prefix.
-- A claim of one queue whose walk read 1,000 entries more than it found jobs notes its xid
-- (collab.claim_walk); a second such walk while the cleanup horizon (collab.cleanup_horizon:
-- here this transaction's own xid) has not passed that xid (collab.horizon_held_since) marks,
-- for this session and for a second (more after longer walks: tests/sql/550), the key of the
-- first job it took and its own xid; while
-- the horizon has not passed that xid, the next claims of that queue start at the mark and
-- move it to the last job they take at its priority. Higher priorities are still read first;
-- a job that becomes due below the mark at the mark's priority waits for the mark to end (at
-- most a second). A mark whose horizon has passed its xid is cleared and the claim reads from
-- the head.
BEGIN;
select plan(28);

select api.register_executor('mark-probe', array['mark-q']) as ex \gset
select api.register_executor('mark-other', array['mark-r']) as ex2 \gset
select set_config('collab.claim_mark', '', true);
select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', 'mark-q', 'type', 't'))
                                          from generate_series(1, 1100)));
select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', 'mark-r', 'type', 't'))
                                          from generate_series(1, 20)));

create function pg_temp.reads() returns bigint language sql as $$
  select pg_stat_get_xact_tuples_returned('collab.jobs_queued_claim_idx'::regclass)
$$;
create function pg_temp.next_due(queue_ text) returns bigint language sql as $$
  select min(j.id) from collab.jobs j where j.queue = queue_ and j.status = 'queued' and j.priority = 0
$$;

-- A short walk sets no mark.
select set_config('collab.claim_walk', '', true);
select count(*) from api.claim(:'ex2', array['mark-r'], 1, 60);
select is(current_setting('collab.claim_mark'), '', 'a claim whose walk was short sets no mark');

select count(*) from api.claim(:'ex', array['mark-q'], 1000, 60);
select pg_temp.next_due('mark-q') as expect \gset
select pg_temp.reads() as before \gset
select is((select id from api.claim(:'ex', array['mark-q'], 1, 60)), :'expect'::bigint,
  'behind 1,000 claimed entries the claim still takes the next job in order');
select cmp_ok(pg_temp.reads() - :before, '>=', 1000::bigint, 'and reads the entries of the jobs claimed before it');
select is(current_setting('collab.claim_mark'), '', 'a first long walk sets no mark');
select is(current_setting('collab.claim_walk'),
  (select workspace_id from collab.executors where id = :'ex') || '/mark-q|' || pg_current_xact_id()::xid::text,
  'it notes the queue and its xid');

-- The second long walk, the horizon not past the first one's xid (this transaction's own):
-- the entries were not dead to every snapshot, so it marks.
select pg_temp.next_due('mark-q') as expect \gset
select pg_temp.reads() as before \gset
select is((select id from api.claim(:'ex', array['mark-q'], 1, 60)), :'expect'::bigint,
  'the second claim takes the next job in order');
select cmp_ok(pg_temp.reads() - :before, '>=', 1000::bigint, 'reading the same entries again');
select alike(current_setting('collab.claim_mark'), '%|' || :'expect' || '|%', 'it marks the key of the job it took');
select is(split_part(current_setting('collab.claim_mark'), '|', 6), pg_current_xact_id()::xid::text,
  'and the xid of the transaction that set it');
select cmp_ok(age(collab.cleanup_horizon()), '>=', age(pg_current_xact_id()::xid),
  'the horizon is at or before this open transaction''s own xid');
-- collab.horizon_held_since(x), which api.claim asks, is that comparison: answered here from
-- this transaction's own snapshot (tests/py/integration/test_claim_mark_held_snapshot.py asks
-- it for a snapshot another session holds without an xid).
select ok(collab.horizon_held_since(pg_current_xact_id()::xid),
  'horizon_held_since: the horizon has not passed this open transaction''s own xid');
select ok(not collab.horizon_held_since((collab.cleanup_horizon()::text::bigint - 1)::text::xid),
  'horizon_held_since: it has passed the xid before the horizon');
select is((select bool_and(collab.horizon_held_since(g::text::xid) = (age(collab.cleanup_horizon()) >= age(g::text::xid)))
             from generate_series(collab.cleanup_horizon()::text::bigint - 5,
                                  pg_current_xact_id()::xid::text::bigint + 5) g),
          true, 'horizon_held_since: the same answer as age(cleanup_horizon()) >= age(x) around the horizon');

select pg_temp.next_due('mark-q') as expect \gset
select pg_temp.reads() as before \gset
select is((select id from api.claim(:'ex', array['mark-q'], 1, 60)), :'expect'::bigint,
  'the next claim takes the next job in order');
select cmp_ok(pg_temp.reads() - :before, '<', 10::bigint, 'starting at the mark: a few entries read, not 1,000');
select alike(current_setting('collab.claim_mark'), '%|' || :'expect' || '|%', 'and moves the mark to the job it took');

select (api.enqueue('mark-q', 't', priority => 5)).id as high \gset
select (api.enqueue('mark-q', 't', priority => -5)).id as low \gset
select is((select id from api.claim(:'ex', array['mark-q'], 1, 60)), :'high'::bigint,
  'a higher priority enqueued after the mark is taken first');
select alike(current_setting('collab.claim_mark'), '%|0|%|' || :'expect' || '|%', 'the mark stays at its priority');
select is((select array_agg(id order by id) from api.claim(:'ex', array['mark-q'], 1000, 60)),
  (select array_agg(j.id order by j.priority desc, j.run_at, j.id) from collab.jobs j
    where j.queue = 'mark-q' and j.status = 'queued'),
  'a claim of the rest takes this priority from the mark on, then the lower one, in order');
select ok((select bool_or(id = :'low') from collab.jobs where status = 'running' and queue = 'mark-q'),
  'the lower priority came last but came');
select alike(current_setting('collab.claim_mark'), '%|0|%|' || (select max(id) from collab.jobs where queue = 'mark-q' and priority = 0) || '|%',
  'the mark moved to the last job it took at its priority');

-- enqueue never sets a run_at before its transaction's start: a job due below the mark is one
-- whose enqueue committed long after it started (written here straight into the table).
insert into collab.jobs (workspace_id, queue, type, run_at, max_attempts, created_at)
  select e.workspace_id, 'mark-q', 't', now() - interval '1 hour', 5, now() from collab.executors e where e.id = :'ex'
returning id as below \gset
select pg_temp.reads() as before \gset
select is((select count(*)::integer from api.claim(:'ex', array['mark-q'], 1, 60)), 0,
  'a job due below the mark at its priority is not seen while the mark lasts');
select cmp_ok(pg_temp.reads() - :before, '<', 10::bigint, 'an empty claim at the mark reads a few entries');

set local collab.clock_offset = '2 seconds';
select is((select id from api.claim(:'ex', array['mark-q'], 1, 60)), :'below'::bigint,
  'a second later the mark has expired: the claim walks from the head and takes it');

-- A mark set by a transaction the horizon has passed since is cleared: the claim reads from
-- the head, and its walk, long again here, marks anew with this transaction's xid.
select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', 'mark-q', 'type', 't'))
                                          from generate_series(1, 3)));
select set_config('collab.claim_mark',
  regexp_replace(current_setting('collab.claim_mark'), '[|][0-9]+([|][0-9]+)$', '|' || (collab.cleanup_horizon()::text::bigint - 1)::text || '\1'), true);
select pg_temp.next_due('mark-q') as expect \gset
select pg_temp.reads() as before \gset
select is((select id from api.claim(:'ex', array['mark-q'], 1, 60)), :'expect'::bigint,
  'a mark the horizon has passed: the claim takes the next job in order');
select cmp_ok(pg_temp.reads() - :before, '>=', 1000::bigint, 'reading from the head of the queue');
select alike(current_setting('collab.claim_mark'), '%|' || :'expect' || '|' || pg_current_xact_id()::xid::text || '|1',
  'and marks anew with this transaction''s xid');

select set_config('collab.claim_mark', '1|' || (select workspace_id from collab.executors where id = :'ex') || '/mark-r|x|y|z', true);
select is((select count(*)::integer from api.claim(:'ex2', array['mark-r'], 1, 60)), 1,
  'a malformed mark is ignored');

select * from finish();
ROLLBACK;
