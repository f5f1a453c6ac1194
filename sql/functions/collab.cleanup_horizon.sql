-- The transaction id that holds back the cleanup of row versions other sessions can still
-- see, as this session finds it now: the oldest of the transactions still running (this
-- session's snapshot's xmin: an open transaction that has an xid, a prepared transaction)
-- and of the snapshots other sessions of this database hold (their backend_xmin: a long
-- query, a repeatable read transaction) or sessions of no database hold (a standby's
-- feedback through a walsender), leaving out lazy vacuums in progress and this session.
-- Postgres leaves out the same for the tables of one database: a snapshot held in another
-- database of the cluster cannot see them, and does not hold back their cleanup. A running
-- transaction of another database still counts here (it is in this session's snapshot's
-- xmin), which keeps a mark at most its second longer. While it stays the same xid the
-- horizon is held there; under a steady load without such a session it moves at every
-- commit. api.claim keeps its claim mark only while it stays the same (docs/architecture.md,
-- "Claims").
-- pid, backend_xid and backend_xmin of pg_stat_activity are shown to every role. No SET
-- clause: every name is schema-qualified.
create or replace function collab.cleanup_horizon()
returns xid
language sql
volatile
parallel restricted
as $$
  select h.x
    from (select pg_catalog.xid(pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())) as x
          union all
          select a.backend_xmin
            from pg_catalog.pg_stat_get_activity(null) a
           where a.backend_xmin is not null and a.pid <> pg_catalog.pg_backend_pid()
             and coalesce(a.datid, 0) in (0, (select d.oid from pg_catalog.pg_database d
                                               where d.datname = pg_catalog.current_database()))
             and a.pid not in (select v.pid from pg_catalog.pg_stat_get_progress_info('VACUUM') v)) h
   order by pg_catalog.age(h.x) desc
   limit 1
$$;
comment on function collab.cleanup_horizon() is
  'The xid holding back the cleanup of dead row versions of this database''s tables as this session sees it: the oldest of the running transactions and of the snapshots other sessions of this database (or of none, a walsender) hold, lazy vacuums left out. api.claim keeps its claim mark only while it stays the same.';
revoke all on function collab.cleanup_horizon() from public;
