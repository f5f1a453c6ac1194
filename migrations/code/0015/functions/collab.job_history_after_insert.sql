-- Statement-level: every job moved into collab.job_history (succeeded, cancelled or dead, by
-- api.complete, api.complete_batch, api.fail, api.cancel or collab.release_jobs) gets the
-- event of that change in the same transaction, written as collab.jobs_after_update writes
-- the event of an update (type = last_event, data for that type), and the workspace's stream
-- subscribers are woken (collab.notify_events). The moving statement takes the row from its
-- source state only (its WHERE clause), and the CHECK job_history_terminal pins the event to
-- the new state, so a move cannot be an illegal transition.
-- The moves of api.complete and api.complete_batch write their events themselves (the
-- setting collab.statement_events, as for collab.jobs_after_update).
create or replace function collab.job_history_after_insert()
returns trigger
language plpgsql
as $$
declare
  written bigint;
begin
  -- A statement of Collab's own that wrote its events itself (above).
  if current_setting('collab.statement_events', true) = 'collab.job_history' then
    perform set_config('collab.statement_events', '', true);
    if not pg_catalog.has_table_privilege(tg_relid, 'TRUNCATE WITH GRANT OPTION') then
      raise exception 'collab.statement_events names %.% but this writer does not own it',
        tg_table_schema, tg_table_name
        using errcode = '42501',
              hint = 'only Collab''s api functions set it, owned by the owner of the table';
    end if;
    return null;
  end if;
  insert into collab.job_events (workspace_id, job_id, type, queue, job_type, attempt, executor_id, data, created_at)
  select n.workspace_id, n.id, n.last_event, n.queue, n.type, n.attempt, n.executor_id,
         case n.last_event
           when 'dead' then jsonb_build_object('error', n.last_error)
           else '{}'::jsonb
         end,
         collab.clock()
    from new_jobs n
   order by n.id;
  get diagnostics written = row_count;
  if written > 0 then
    perform collab.notify_events(w.workspace_id) from (select distinct n.workspace_id from new_jobs n) w;
  end if;
  return null;
end
$$;
comment on function collab.job_history_after_insert() is
  'Trigger: writes the event of each job moved into collab.job_history (succeeded, cancelled, dead) and wakes the workspace''s stream subscribers (collab.notify_events).';
