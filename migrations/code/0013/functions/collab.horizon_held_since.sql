-- Whether the cleanup horizon (collab.cleanup_horizon) has not passed xid x: some transaction
-- still running, or some snapshot still held, began before x ended, so row versions that
-- died after x cannot be removed or marked dead yet. The same answer as
-- age(collab.cleanup_horizon()) >= age(x), read cheaply first: this session's snapshot's xmin
-- (the oldest running xid it sees, about 0.2 µs) is never younger than the horizon, so when
-- it has not passed x the horizon has not either; that settles every transaction held open
-- with an xid (an idle transaction, a prepared one). Only otherwise are the other sessions'
-- snapshots read (collab.cleanup_horizon: about 65 µs with max_connections = 200), for a
-- snapshot held without an xid (a long query, a repeatable read transaction). CASE keeps
-- the order. api.claim asks it for its claim mark and its walk note (docs/architecture.md,
-- "Claims"). No SET clause: every name is schema-qualified.
create or replace function collab.horizon_held_since(x xid)
returns boolean
language sql
volatile
parallel restricted
as $$
  select case
           when pg_catalog.age(pg_catalog.xid(pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())))
                >= pg_catalog.age(x) then true
           else pg_catalog.age(collab.cleanup_horizon()) >= pg_catalog.age(x)
         end
$$;
comment on function collab.horizon_held_since(xid) is
  'Whether the cleanup horizon has not passed xid x (age(collab.cleanup_horizon()) >= age(x)), answered from this session''s snapshot when it settles it and from the other sessions'' snapshots only otherwise. api.claim keeps its claim mark while it holds.';
revoke all on function collab.horizon_held_since(xid) from public;
