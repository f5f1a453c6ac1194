-- Claim up to max_jobs jobs for an executor: highest priority first, then oldest run_at,
-- skipping rows locked by other claimers, never from a paused queue, never past a queue's
-- concurrency limit. Each claimed job gets a fresh lease token and a lease. Expired leases
-- of these queues are reclaimed first (at most once a second per session and set of queues),
-- so correctness never depends on the reaper.
-- The ids of queues without a limit are picked in one statement (several queues: read, then
-- the best of them locked, below); queues with a limit one by one, serialized per queue by a
-- row lock on its collab.queues row (only they pay for it); then one UPDATE claims them all.
-- queues holds at most 100 valid names: a row lock takes no entry in the shared lock table,
-- and the cap bounds what one call can hold (an advisory lock per named queue let one tenant
-- fill that table and fail everyone's calls with 53200; finding 1 of the security review,
-- tests/sql/540).
-- Generic plans only (plan_cache_mode): with the default, the claim statement was planned
-- again at every call (its generic plan, estimated for an unknown LIMIT, looked dearer than a
-- custom one), a third of its cost. The claimed ids are collected first and the rows then
-- updated by primary key (id = any(picked)), so the generic plan never scans collab.jobs
-- (tests/sql/532 holds it to that).
-- No bitmap scans (enable_bitmapscan): a hot table vacuumed and analyzed while nearly every
-- row in it is dead can be left with statistics that say it is empty (reltuples 0) while
-- thousands of jobs are queued, and the planner then chose a bitmap scan of the primary key
-- over every job of the workspace, and a sort, for the pick: 40 times the cost of a claim with
-- 150,000 jobs queued, and a 30-second stall in the soak (docs/bench.md). Without bitmap scans
-- the pick keeps to jobs_queued_claim_idx whatever the statistics say. No sequential scans
-- either (enable_seqscan): a plan made while collab.jobs was small (a fresh database, before
-- its first vacuum) claimed by reading the whole table, and kept doing so in that session as
-- the table grew: a burst of 800 jobs/s fell to 95/s within a minute
-- (tests/py/integration/test_claim_plan_without_statistics.py, docs/bench.md). No sorts below
-- the final one (enable_sort): under a snapshot held open, plans made after an autovacuum
-- read the pick from jobs_list_status_idx, or jobs_pkey, and sorted what they read (the
-- workspace's dead entries too: 310 million entries read in 100 s of the held-snapshot load,
-- and the mark below never set); only the claim index gives the claim order without a sort.
-- Every plan then costs more than jit_above_cost, so JIT is off (jit): it would compile the
-- plan at every call.
create or replace function api.claim(
  executor_id uuid,
  queues text[] default null,
  max_jobs integer default 1,
  lease_seconds integer default null
)
returns setof api.claimed_job
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
set enable_bitmapscan = off
set enable_seqscan = off
set enable_sort = off
set jit = off
as $$
declare
  ws uuid := collab.require_role('member');
  now_ timestamptz := collab.clock();
  ex collab.executors;
  wanted text[];
  open_queues text[];
  limited record;
  budget integer;
  picked bigint[] := '{}';
  candidates bigint[];
  refill boolean;
  got integer := 0;
  gate text;
  expire boolean;
  claim_index regclass;
  lease_index regclass;
  lease_reads bigint;
  expired_n integer;
  fetched bigint := 0;
  locked integer := 0;
  read_ bigint := 0;
  pages bigint := 0;
  mark text;
  f text[];
  mark_at text;
  mark_xid text;
  write_mark boolean := false;
  fp integer;
  fr timestamptz;
  fid bigint;
  walk text;
  keep boolean;
  mark_key text;
  mark_life integer;
  any_limited boolean;
begin
  ex := collab.require_executor(claim.executor_id, ws);
  perform collab.take_tokens(ws, 'claim', ex.id, 1);
  if claim.max_jobs is null or claim.max_jobs not between 1 and 1000 then
    perform collab.raise_error('PT400', 'invalid_input', 'max_jobs must be between 1 and 1000', 'max_jobs');
  end if;
  if claim.lease_seconds is not null and claim.lease_seconds not between 1 and 86400 then
    perform collab.raise_error('PT400', 'invalid_input', 'lease_seconds must be between 1 and 86400', 'lease_seconds');
  end if;
  wanted := collab.wanted_queues(claim.queues, ex.queues);

  -- Expired leases of these queues, at most once a second per session and set of queues:
  -- the scan reads every lease entry past its expiry, and under a snapshot held open (an
  -- idle transaction, a long report) the entries of finished jobs can be neither removed nor
  -- marked dead, so a scan at every claim grew to 7 ms of a 13 ms claim after two minutes
  -- at 300 jobs/s (docs/bench.md). A lease is reclaimed within a second of any claim on its
  -- queues (and by the reaper); the clock moving backwards (a test) opens the gate again.
  -- Once a second still grows with the snapshot's age (100 ms a scan after ten minutes), so a
  -- scan that read many entries of finished jobs spaces the next one by
  -- collab.claim_gate_seconds (up to 30 s): the setting holds the time, the queues and the
  -- seconds.
  gate := ws::text || '/' || array_to_string(wanted, ',');
  expire := not collab.session_note_fresh(current_setting('collab.leases_checked', true), gate, now_);
  if expire then
    lease_index := pg_catalog.to_regclass('collab.jobs_running_lease_idx');
    lease_reads := pg_stat_get_xact_tuples_returned(lease_index);
    expired_n := collab.expire_leases(ws, wanted);
    perform set_config('collab.leases_checked', collab.session_note(gate, now_,
      collab.claim_gate_seconds(pg_stat_get_xact_tuples_returned(lease_index) - lease_reads - expired_n)), false);
  end if;

  -- The open queues without a limit, and whether any has one (the loop over those, below,
  -- runs only then), in one statement. The names in no particular order: the pick orders the
  -- jobs it takes and waits for no lock (skip locked); a sorted aggregate here started a sort
  -- at every call.
  select nullif(array(select q.name from collab.queues q
                       where q.workspace_id = ws and q.name = any(wanted) and not q.paused
                         and q.concurrency_limit is null), '{}'),
         exists(select from collab.queues q
                 where q.workspace_id = ws and q.name = any(wanted) and not q.paused
                   and q.concurrency_limit is not null)
    into open_queues, any_limited;

  -- The ids first (skipping rows others hold), then one UPDATE of them all by primary key.
  -- The claim index's count of visible rows fetched in this transaction, read before and
  -- after the pick, tells whether the pick skipped any (a claim conflict, below) without a
  -- second walk of the index.
  if open_queues is not null then
    claim_index := pg_catalog.to_regclass('collab.jobs_queued_claim_idx');
    fetched := pg_stat_get_xact_tuples_fetched(claim_index);
    read_ := pg_stat_get_xact_tuples_returned(claim_index);
    pages := pg_stat_get_xact_blocks_fetched(claim_index);
    -- This session's mark on its one queue (below), while it is less than a second old and
    -- the cleanup horizon has not passed the transaction that set it; else it is cleared. The
    -- horizon is read only for a well-formed, fresh mark of this queue (a separate IF: the
    -- terms of one condition may all be evaluated when the first is null).
    mark_key := ws::text || '/' || open_queues[1];  -- the one queue of the mark and of the walk note
    mark := case when cardinality(open_queues) = 1 then nullif(current_setting('collab.claim_mark', true), '') end;
    f := string_to_array(mark, '|');  -- set at (epoch), queue key, priority, run_at (µs), id, xid, seconds
    keep := false;
    if mark ~ '^[0-9]+(\.[0-9]+)?[|][^|]*[|]-?[0-9]{1,7}[|]-?[0-9]{1,18}[|][0-9]{1,18}[|][0-9]{1,10}[|][0-9]{1,2}$'
       and f[2] = mark_key
       and f[1]::numeric between extract(epoch from now_) - f[7]::integer and extract(epoch from now_) then
      keep := f[6] = '0' or collab.horizon_held_since(f[6]::xid);  -- 0: a mark over dead pages
    end if;
    if keep then
      mark_at := f[1];
      fp := f[3]::integer;
      fr := timestamptz 'epoch' + f[4]::bigint / 1000000 * interval '1 second'
                                + f[4]::bigint % 1000000 * interval '1 microsecond';
      fid := f[5]::bigint;
      mark_xid := f[6];
      mark_life := f[7]::integer;
      -- Higher priorities first (from the start), then this priority from the mark on, then
      -- lower priorities: the claim order, without the entries before the mark.
      picked := array(
        select x.id from collab.jobs x
         where x.workspace_id = ws and x.queue = open_queues[1] and x.priority > fp
           and x.status = 'queued' and x.run_at <= now_
         order by x.priority desc, x.run_at, x.id
         limit claim.max_jobs
         for update skip locked);
      if cardinality(picked) < claim.max_jobs then
        -- the mark moves to the last job taken at its priority (none: it stays)
        select picked || coalesce(array_agg(s.id), '{}'),
               coalesce((array_agg(s.id order by s.run_at desc, s.id desc))[1], fid),
               coalesce(max(s.run_at), fr)
          into picked, fid, fr
          from (select x.id, x.run_at from collab.jobs x
                 where x.workspace_id = ws and x.queue = open_queues[1] and x.priority = fp
                   and (x.run_at, x.id) >= (fr, fid)
                   and x.status = 'queued' and x.run_at <= now_
                 order by x.priority desc, x.run_at, x.id
                 limit claim.max_jobs - cardinality(picked)
                 for update skip locked) s;
        -- (a mark over dead pages stays where it was set: below)
        write_mark := mark_xid <> '0' and fid <> f[5]::bigint;
      end if;
      if cardinality(picked) < claim.max_jobs then
        picked := picked || array(
          select x.id from collab.jobs x
           where x.workspace_id = ws and x.queue = open_queues[1] and x.priority < fp
             and x.status = 'queued' and x.run_at <= now_
           order by x.priority desc, x.run_at, x.id
           limit claim.max_jobs - cardinality(picked)
           for update skip locked);
      end if;
    else
      if mark is not null then
        perform set_config('collab.claim_mark', '', false);
        mark := null;
      end if;
      -- One queue (a worker's usual claim): its jobs straight from the claim index, in its
      -- order; several: each queue's first jobs, then the best of them. The one-queue form
      -- leaves out the join, its memoize node and the final sort, which every call started
      -- (and paid for) even when there was nothing to join.
      if cardinality(open_queues) = 1 then
        picked := array(
          select x.id from collab.jobs x
           where x.workspace_id = ws and x.queue = open_queues[1]
             and x.status = 'queued' and x.run_at <= now_
           order by x.priority desc, x.run_at, x.id
           limit claim.max_jobs
           for update skip locked);
      else
        -- Several queues: each queue's first max_jobs due jobs, read without a lock, in the
        -- claim order; then the first max_jobs of them that no other transaction holds are
        -- locked, in that order (the lock is taken as the limit pulls rows), so the claim
        -- locks only the jobs it takes. Locking each queue's first max_jobs in the read, as
        -- this pick did before revision 0031, held up to max_jobs jobs a queue until commit
        -- and took max_jobs: a claim of 32 from 10 queues kept 288 jobs locked that it did
        -- not take, which other claimers skipped meanwhile, with a WAL record for each lock
        -- (docs/bench.md).
        -- Others held (or took) a candidate ahead of the last one locked, or the claim is
        -- short of candidates it did not get, while some queue may have more due jobs than
        -- its first max_jobs: a job past a queue's first max_jobs can then come before one
        -- taken. The pick is then made again from each queue's jobs that no one else holds,
        -- as before 0031, and the best max_jobs of both are taken (the rest stay locked until
        -- commit), so the claim order holds. That costs the claim a third statement, so for
        -- a second after one, the session's claims of these queues make only that pick
        -- (collab.claim_contended, a note as collab.leases_checked is: the time, the queues and
        -- the second): claimers that keep meeting each other at the head of the same queues ran
        -- at 0.93x of the old pick when each made all three (docs/bench.md).
        refill := collab.session_note_fresh(current_setting('collab.claim_contended', true), gate, now_);
        if not refill then
          candidates := array(
            select c.id
              from unnest(open_queues) qn(name)
              cross join lateral (
                select x.id, x.priority, x.run_at
                  from collab.jobs x
                 where x.workspace_id = ws and x.queue = qn.name
                   and x.status = 'queued' and x.run_at <= now_
                 order by x.priority desc, x.run_at, x.id
                 limit claim.max_jobs) c
             order by c.priority desc, c.run_at, c.id);
          -- Each by primary key: "not running" is "queued" in collab.jobs (jobs_not_finished),
          -- but it does not let the planner read the candidates through the claim index, whose
          -- count of rows fetched tells a claim conflict (below).
          picked := array(
            select x.id
              from unnest(candidates) with ordinality u(id, n)
              join collab.jobs x on x.id = u.id and x.workspace_id = ws
             where x.status <> 'running' and x.run_at <= now_
             order by u.n
             limit claim.max_jobs
             for update of x skip locked);
          refill := cardinality(candidates) >= claim.max_jobs
                    and (cardinality(picked) < claim.max_jobs
                         or array_position(candidates, picked[cardinality(picked)]) > cardinality(picked));
          if refill then
            perform set_config('collab.claim_contended', collab.session_note(gate, now_, 1), false);
          end if;
        end if;
        if refill then
          picked := array(
            select s.id
              from (select x.id, x.priority, x.run_at
                      from collab.jobs x
                     where x.id = any(picked) and x.workspace_id = ws
                    union all
                    select c.id, c.priority, c.run_at
                      from unnest(open_queues) qn(name)
                      cross join lateral (
                        select x.id, x.priority, x.run_at
                          from collab.jobs x
                         where x.workspace_id = ws and x.queue = qn.name
                           and x.status = 'queued' and x.run_at <= now_
                           and x.id <> all(picked)
                         order by x.priority desc, x.run_at, x.id
                         limit claim.max_jobs
                         for update skip locked) c) s
             order by s.priority desc, s.run_at, s.id
             limit claim.max_jobs);
        end if;
      end if;
    end if;
    fetched := pg_stat_get_xact_tuples_fetched(claim_index) - fetched;
    read_ := pg_stat_get_xact_tuples_returned(claim_index) - read_;
    pages := pg_stat_get_xact_blocks_fetched(claim_index) - pages;
    locked := cardinality(picked);
    picked := picked[1:claim.max_jobs];
    -- A walk that read 1,000 entries more than it found jobs went through the entries of jobs
    -- claimed already. Either nobody had read them since they died (the walk marked them dead
    -- as it passed, and the next walk is short), or Postgres cannot remove them yet: their
    -- claims committed after the cleanup horizon (collab.cleanup_horizon), and so before this
    -- transaction took its xid. The session notes its xid (collab.claim_walk); when its next
    -- long walk of the queue comes while the horizon has not passed that xid, the entries were
    -- not dead to every snapshot, and it marks the key of the first job it took and its own
    -- xid. For the next second, or a second for every 10,000 entries the walk read beyond the
    -- jobs it found (collab.claim_gate_seconds, at most 30: a walk from the head grows with the
    -- held snapshot's age, 100 ms after ten minutes at 300 jobs/s), while the horizon has not
    -- passed the mark's xid (a transaction or snapshot held open keeps it there), its claims
    -- of this queue start at the mark and move it to the last job they take at its priority.
    -- Higher and lower priorities are read from their start. A job that becomes due below the
    -- mark at its priority waits for the mark to end, at most those seconds: enqueue never sets a run_at before
    -- its transaction's start, so only a job whose enqueue committed long after its start, or
    -- whose claim rolled back, can (tests/sql/541, docs/architecture.md). Once the horizon
    -- passes the xid, the entries behind the mark can be marked dead, and the next claim reads
    -- from the head and does so: Postgres then deletes them from a full page instead of
    -- splitting it. A mark kept for its second whatever the horizon did (the soak, 3,600
    -- jobs/s, a long walk now and then) left them unmarked, and the claim index grew 9-fold in
    -- ten minutes.
    if mark is null and locked > 0 and cardinality(open_queues) = 1 then
      if read_ - fetched >= 1000 then
        walk := current_setting('collab.claim_walk', true);
        keep := false;
        if walk ~ '^[^|]*[|][0-9]{1,10}$' and split_part(walk, '|', 1) = mark_key then
          keep := collab.horizon_held_since(split_part(walk, '|', 2)::xid);
        end if;
        if keep then
          mark_xid := xid(pg_current_xact_id())::text;
        else
          perform set_config('collab.claim_walk',
            mark_key || '|' || xid(pg_current_xact_id())::text, false);
        end if;
      elsif pages >= 32 then
        -- A walk that read 32 index pages or more but few entries went through pages whose
        -- entries were all marked dead: the entries of jobs claimed since the last vacuum, at the
        -- head of the claim index, where no insert comes (a new job's run_at is its enqueue's
        -- time) to delete them from a full page. Only a vacuum removes those pages, and until the
        -- autovacuum launcher comes to the database (autovacuum_naptime: a minute by default)
        -- every claim from the head read them all: in a burst of 800 jobs/s on a fresh
        -- database, 16 pages a claim at 10 s and 124 at 40 s, while the api threads fell from
        -- about 630 to 390 jobs a second (docs/bench.md, "dead pages at the head of the claim
        -- index"). The session then marks the first job it took, with xid 0: a mark kept for
        -- its second whatever the horizon does, that does not move.
        -- The claims from it still read every entry after it, the jobs claimed since included,
        -- and mark those dead as they pass; only the pages found dead are skipped. (A mark that
        -- moved with the session's claims would leave the entries behind it unread, unmarked
        -- and undeletable where the enqueues insert: the soak's index growth, above.)
        mark_xid := '0';
      end if;
      -- Either kind of mark starts at the first job this claim took.
      if mark_xid is not null then
        select x.priority, x.run_at into fp, fr from collab.jobs x
         where x.id = picked[1] and x.workspace_id = ws;
        fid := picked[1];
        mark_at := extract(epoch from now_)::text;
        mark_life := collab.claim_gate_seconds(read_ - fetched);
        write_mark := true;
      end if;
    end if;
    -- A new mark, or a kept one that moved (its time and xid stay).
    if write_mark then
      perform set_config('collab.claim_mark',
        concat_ws('|', mark_at, mark_key, fp, (extract(epoch from fr) * 1000000)::bigint, fid, mark_xid,
                  mark_life), false);
    end if;
  end if;

  if any_limited and cardinality(picked) < claim.max_jobs then
    for limited in
      select q.name, q.concurrency_limit
        from collab.queues q
       where q.workspace_id = ws and q.name = any(wanted) and not q.paused
         and q.concurrency_limit is not null
       order by q.name
    loop
      exit when cardinality(picked) >= claim.max_jobs;
      perform 1 from collab.queues q
       where q.workspace_id = ws and q.name = limited.name
         for no key update;
      select limited.concurrency_limit - count(*) into budget
        from collab.jobs j
       where j.workspace_id = ws and j.queue = limited.name and j.status = 'running';
      budget := least(budget, claim.max_jobs - cardinality(picked));
      continue when budget <= 0;
      picked := picked || array(
        select x.id
          from collab.jobs x
         where x.workspace_id = ws and x.queue = limited.name
           and x.status = 'queued' and x.run_at <= now_
         order by x.priority desc, x.run_at, x.id
         limit budget
         for update skip locked);
    end loop;
  end if;

  -- The claim and its claimed events in one statement (collab.jobs_after_update says how: the
  -- events trigger of collab.jobs then leaves this statement's rows to it). A job picked above
  -- is locked by this transaction and queued, so the transition is legal.
  if cardinality(picked) > 0 then
    perform set_config('collab.statement_events', 'collab.jobs', true);
    return query
    with claimed as (
    update collab.jobs j set
      status = 'running',
      last_event = 'claimed',
      attempt = j.attempt + 1,
      executor_id = claim.executor_id,
      lease_token = gen_random_uuid(),
      lease_seconds = coalesce(claim.lease_seconds, q.lease_seconds),
      lease_expires_at = now_ + make_interval(secs => coalesce(claim.lease_seconds, q.lease_seconds)),
      claimed_at = now_
    from collab.queues q
    where j.id = any(picked) and q.workspace_id = ws and q.name = j.queue
    returning j.*
    ), written as (
      insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt,
                                     executor_id, data, created_at)
      select c.workspace_id, c.id, 'claimed', c.queue, c.type, c.attempt, c.executor_id,
             jsonb_build_object('lease_expires_at', c.lease_expires_at), now_
        from claimed c
       order by c.id
    )
    select c.id, c.queue, c.type, c.payload, c.priority, c.attempt, c.max_attempts,
           c.lease_token, c.lease_expires_at, c.run_at, c.created_at
      from claimed c;
    get diagnostics got = row_count;
    if got > 0 then
      perform collab.notify_events(ws);
    end if;
  end if;

  -- A short claim whose pick fetched more due jobs visible in its snapshot than it locked
  -- skipped rows that others held locked: a claim conflict (docs/metrics.md). The index's
  -- counter gives it with no second walk of the index, which under a snapshot held open (an
  -- idle transaction) reads every entry of the jobs claimed since, as the pick did (a short
  -- claim paid twice: docs/bench.md). Several queues: each is asked (one exists per queue)
  -- which of them held the skipped rows, only when there were some.
  if got < claim.max_jobs and fetched > locked then
    if cardinality(open_queues) = 1 then
      perform collab.metrics_signal('claim_conflict', ws, open_queues[1], '', 1);
    else
      perform collab.metrics_signal('claim_conflict', ws, qn.name, '', 1)
         from unnest(open_queues) qn(name)
        where exists (select 1 from collab.jobs j
                       where j.workspace_id = ws and j.queue = qn.name
                         and j.status = 'queued' and j.run_at <= now_);
    end if;
  end if;
end
$$;
comment on function api.claim(uuid, text[], integer, integer) is
  'Claim up to max_jobs (1-1000) jobs for executor_id from queues (at most 100 names; default: the executor''s), highest priority then oldest run_at. Each job carries a fresh lease_token that heartbeat, progress, complete and fail must present. lease_seconds (1-86400) overrides the queue''s lease.';
revoke all on function api.claim(uuid, text[], integer, integer) from public;
grant execute on function api.claim(uuid, text[], integer, integer) to authenticated, service_role;
