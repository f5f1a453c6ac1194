-- Under a snapshot held open, api.claim's two scans that once a second read from the head of
-- a claim-path index (the check of expired leases, and the walk that sets a claim mark) read
-- the entries of every job run since the snapshot was taken. Each spaces the next by what it
-- read: collab.claim_gate_seconds, a second for every 10,000 entries read beyond the rows
-- found, between 1 and 30. Inside one transaction the jobs it changed itself leave such entries
-- (their old row versions are invisible to its later statements and cannot be removed), so this
-- test builds them.
BEGIN;
select plan(21);

select is(collab.claim_gate_seconds(null), 1, 'claim_gate_seconds: nothing read, once a second');
select is(collab.claim_gate_seconds(-5), 1, 'claim_gate_seconds: a negative count, once a second');
select is(collab.claim_gate_seconds(9999), 1, 'claim_gate_seconds: under 10,000 entries, once a second');
select is(collab.claim_gate_seconds(20000), 2, 'claim_gate_seconds: 20,000 entries, every 2 seconds');
select is(collab.claim_gate_seconds(1000000000), 30, 'claim_gate_seconds: at most every 30 seconds');

select api.register_executor('gate-grow', array['grow-q']) as ex \gset
select set_config('collab.claim_mark', '', true);
select set_config('collab.claim_walk', '', true);

-- The lease check: 1,000 claimed jobs whose leases are extended 20 times leave 20,000 lease
-- entries behind, each past its expiry 10 s later, none of them a running job's lease then.
select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', 'grow-q', 'type', 't'))
                                          from generate_series(1, 1000)));
select is((select count(*)::integer from api.claim(:'ex', array['grow-q'], 1000, 5)), 1000, 'a thousand jobs claimed with a lease of 5 s');
select alike(current_setting('collab.leases_checked'), '%/grow-q|1', 'a check that read little is next made a second on');
do $$
begin
  for i in 1 .. 20 loop
    update collab.jobs set lease_expires_at = lease_expires_at + interval '1 millisecond' where queue = 'grow-q';
  end loop;
end
$$;
update collab.jobs set lease_expires_at = lease_expires_at + interval '1 hour' where queue = 'grow-q';
set local collab.clock_offset = '10 seconds';
select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', 'grow-q', 'type', 't'))
                                          from generate_series(1, 3)));
select is((select count(*)::integer from api.claim(:'ex', array['grow-q'], 1, 60)), 1, 'a claim 10 s on takes a job');
select is(split_part(current_setting('collab.leases_checked'), '|', 3), '2',
  'its check read 20,000 entries of leases no longer held: the next comes 2 s on');
select is((select count(*)::integer from collab.jobs where queue = 'grow-q' and status = 'running'), 1001,
  'and took away no lease: every one held was extended');

-- A lease that runs out now is left to the check 2 s on.
create temp table short as select * from api.claim(:'ex', array['grow-q'], 1, 1);
set local collab.clock_offset = '11.5 seconds';
select is((select count(*)::integer from api.claim(:'ex', array['grow-q'], 1, 60)), 1, 'a claim 1.5 s later takes the last job');
select is((select status from collab.jobs where id = (select id from short)), 'running'::collab.job_status,
  'and does not check the leases: the lease that ran out meanwhile still runs');
set local collab.clock_offset = '12.5 seconds';
select is((select count(*)::integer from api.claim(:'ex', array['grow-q'], 1, 60)), 0,
  'a claim 2.5 s after the check (the retry waits for its backoff)');
select results_eq($$select status::text, last_error ->> 'reason' from tests.all_jobs where id = (select id from short)$$,
  $$values ('queued', 'lease_expired')$$, 'checks again and reclaims it');

-- The claim mark: 21,000 jobs claimed in this transaction leave their queued entries at the
-- head of the claim index; the second long walk marks, for 2 s.
select set_config('tests.ex', :'ex', true);
do $$
begin
  for i in 1 .. 21 loop
    perform api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', 'grow-r', 'type', 't'))
                                 from generate_series(1, 1000)));
    perform api.claim(current_setting('tests.ex')::uuid, array['grow-r'], 1000, 600);
  end loop;
end
$$;
select is((select count(*)::integer from collab.jobs where queue = 'grow-r' and status = 'running'), 21000,
  '21,000 jobs claimed');
-- (those claims walked and marked too; the walks below start without a mark or a note)
select set_config('collab.claim_mark', '', true);
select set_config('collab.claim_walk', '', true);
select count(*) from api.enqueue_batch((select jsonb_agg(jsonb_build_object('queue', 'grow-r', 'type', 't'))
                                          from generate_series(1, 10)));
select count(*) from api.claim(:'ex', array['grow-r'], 1, 600);
select is(current_setting('collab.claim_mark'), '', 'a first long walk sets no mark');
select count(*) from api.claim(:'ex', array['grow-r'], 1, 600);
select is(split_part(current_setting('collab.claim_mark'), '|', 7), '2',
  'the second marks, for 2 s: it read 21,000 entries beyond the job it found');

create function pg_temp.reads() returns bigint language sql as $$
  select pg_stat_get_xact_tuples_returned('collab.jobs_queued_claim_idx'::regclass)
$$;
select set_config('collab.claim_mark', regexp_replace(current_setting('collab.claim_mark'), '^[0-9.]+',
  (extract(epoch from collab.clock()) - 1.5)::text), true);
select pg_temp.reads() as before \gset
select is((select count(*)::integer from api.claim(:'ex', array['grow-r'], 1, 600)), 1, 'a claim 1.5 s after the mark takes a job');
select cmp_ok(pg_temp.reads() - :before, '<', 10::bigint, 'from the mark: a few entries read');
select set_config('collab.claim_mark', regexp_replace(current_setting('collab.claim_mark'), '^[0-9.]+',
  (extract(epoch from collab.clock()) - 2.5)::text), true);
select pg_temp.reads() as before \gset
select is((select count(*)::integer from api.claim(:'ex', array['grow-r'], 1, 600)), 1, 'a claim 2.5 s after it takes a job');
select cmp_ok(pg_temp.reads() - :before, '>=', 21000::bigint, 'walking from the head: the mark has ended');

select * from finish();
ROLLBACK;
