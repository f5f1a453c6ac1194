-- Statement-level, after insert on collab.queues or collab.executors: refuses the statement
-- with PT429 quota_exceeded {quota: queues|executors, limit} when a workspace now has more
-- than the operator allows. Only rows really inserted count (ON CONFLICT updates do not). The
-- workspace row is locked first (FOR NO KEY UPDATE: foreign-key checks do not wait on it), so
-- concurrent creations in one workspace are counted one after the other and the limit holds.
-- TG_ARGV[0]: the limit's name (queues or executors).
create or replace function collab.check_created_limit()
returns trigger
language plpgsql
as $$
declare
  d record;
  limits jsonb;
  used bigint;
begin
  for d in select n.workspace_id from new_rows n group by n.workspace_id order by n.workspace_id loop
    perform 1 from collab.workspaces w where w.id = d.workspace_id for no key update;
    limits := collab.workspace_limits(d.workspace_id);
    if tg_argv[0] = 'queues' then
      select count(*) into used from (
        select 1 from collab.queues q where q.workspace_id = d.workspace_id
         limit (limits ->> 'queues')::bigint + 1) x;
    else
      select count(*) into used from (
        select 1 from collab.executors e where e.workspace_id = d.workspace_id
         limit (limits ->> 'executors')::bigint + 1) x;
    end if;
    perform collab.check_limit(tg_argv[0], used, limits, case tg_argv[0] when 'queues' then 'queue' else 'name' end);
  end loop;
  return null;
end
$$;
comment on function collab.check_created_limit() is
  'Trigger: enforces the operator''s queues / executors limit per workspace (PT429 quota_exceeded).';
