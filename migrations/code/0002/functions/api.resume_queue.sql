-- Resume a paused queue.
create or replace function api.resume_queue(queue text)
returns api.queue
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ws uuid := collab.current_workspace();
  q collab.queues;
begin
  perform collab.ensure_queue(ws, resume_queue.queue);
  update collab.queues x set paused = false
   where x.workspace_id = ws and x.name = resume_queue.queue
  returning * into q;
  return collab.queue_row(q);
end
$$;
comment on function api.resume_queue(text) is
  'Resume a paused queue.';
revoke all on function api.resume_queue(text) from public;
grant execute on function api.resume_queue(text) to authenticated, service_role;
