-- Issue 18: the schema can be distributed by workspace with Citus. Every table of collab is
-- either workspace-scoped (it has workspace_id, and workspace_id is in its primary key and in
-- every unique constraint and unique index, since Citus enforces uniqueness only within a
-- shard) or one of the few reference tables (no workspace_id: replicated to every node).
-- A foreign key between two workspace-scoped tables carries workspace_id on both sides
-- (Citus needs it to be shard-local). Partitions follow their parent and are not listed.
BEGIN;
select plan(5);

create temp view t as
select c.oid, c.oid::regclass::text as name,
       exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'workspace_id'
                                              and not a.attisdropped) as scoped
  from pg_class c
 where c.relnamespace = 'collab'::regnamespace and c.relkind in ('r', 'p') and not c.relispartition;

create function pg_temp.has_workspace(rel oid, cols int2[]) returns boolean language sql as $$
  select exists (select 1 from unnest(cols) k join pg_attribute a on a.attrelid = rel and a.attnum = k
                  where a.attname = 'workspace_id')
$$;

select is((select array_agg(name order by name) from t where not scoped),
          array['collab.metrics_rollup_state', 'collab.platform_limits', 'collab.workspaces'],
          'the tables without workspace_id are exactly the reference tables');
select is((select array_agg(name order by name) from t
            where scoped and not exists (select 1 from pg_constraint k where k.conrelid = t.oid and k.contype = 'p')),
          null, 'every workspace-scoped table has a primary key');
select is((select array_agg(t.name || ' ' || k.conname order by t.name, k.conname)
             from t join pg_constraint k on k.conrelid = t.oid
            where t.scoped and k.contype in ('p', 'u', 'x') and not pg_temp.has_workspace(t.oid, k.conkey)),
          null, 'workspace_id is in every primary key, unique and exclusion constraint');
select is((select array_agg(i.indexrelid::regclass::text order by 1)
             from t join pg_index i on i.indrelid = t.oid
            where t.scoped and i.indisunique and not pg_temp.has_workspace(t.oid, i.indkey::int2[])),
          null, 'workspace_id is in every unique index (partial ones included)');
select is((select array_agg(k.conname::text order by 1)
             from pg_constraint k join t a on a.oid = k.conrelid join t b on b.oid = k.confrelid
            where k.contype = 'f' and a.scoped and b.scoped
              and not (pg_temp.has_workspace(a.oid, k.conkey) and pg_temp.has_workspace(b.oid, k.confkey))),
          null, 'every foreign key between workspace-scoped tables carries workspace_id on both sides');

select * from finish();
ROLLBACK;
