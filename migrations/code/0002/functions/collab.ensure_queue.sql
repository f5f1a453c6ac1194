-- The queue row of (workspace, name), created with the defaults on first use.
create or replace function collab.ensure_queue(workspace_id uuid, name text)
returns collab.queues
language plpgsql
volatile
set search_path = ''
as $$
declare
  q collab.queues;
begin
  select * into q from collab.queues x
   where x.workspace_id = ensure_queue.workspace_id and x.name = ensure_queue.name;
  if not found then
    insert into collab.queues as x (workspace_id, name)
    values (ensure_queue.workspace_id, collab.check_name('queue', ensure_queue.name))
    on conflict on constraint queues_pkey do update set name = excluded.name
    returning * into q;
  end if;
  return q;
end
$$;
comment on function collab.ensure_queue(uuid, text) is
  'Returns the queue, creating it with default settings when it does not exist.';
