-- How long a claim session goes on from a long scan of a claim-path index before it makes the
-- next one (api.claim: its check of expired leases, and its claim mark): a second for every
-- 10,000 index entries the scan read beyond the rows it found, at least 1, at most 30.
-- With no snapshot held open the scans read few such entries (they are marked dead as they are
-- passed) and the rule is once a second. Under a snapshot held open they cannot be marked, and
-- each scan reads the entries of every job run since it was taken: at 300 jobs/s, after ten
-- minutes, about 100 ms a scan, once a second in each claiming session, and the worker fell
-- behind (docs/bench.md, "Scans that grow with a held snapshot's age"). Spaced by what they
-- read, they take a bounded share of a session's time (about 1 % at the 1 µs an entry measured).
create or replace function collab.claim_gate_seconds(entries bigint)
returns integer
language sql
immutable
parallel safe
as $$
  select least(30, greatest(1, coalesce(entries, 0) / 10000))::integer
$$;
comment on function collab.claim_gate_seconds(bigint) is
  'Seconds a claim session waits before its next scan of a claim-path index, from the entries the last one read beyond what it found: 1 per 10,000, between 1 and 30.';
revoke all on function collab.claim_gate_seconds(bigint) from public;
