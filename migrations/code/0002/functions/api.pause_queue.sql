-- Pause a queue: claims take nothing from it until it is resumed. Running jobs go on.
create or replace function api.pause_queue(queue text)
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
  perform collab.ensure_queue(ws, pause_queue.queue);
  update collab.queues x set paused = true
   where x.workspace_id = ws and x.name = pause_queue.queue
  returning * into q;
  return collab.queue_row(q);
end
$$;
comment on function api.pause_queue(text) is
  'Pause a queue: claims take nothing from it until it is resumed. Running jobs go on.';
revoke all on function api.pause_queue(text) from public;
grant execute on function api.pause_queue(text) to authenticated, service_role;
