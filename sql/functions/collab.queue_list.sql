-- The queues a worker wake-up on `collab_jobs:<workspace_id>` names: comma-separated, in the
-- order given (the triggers sort them), or empty when the list would not fit a notification
-- (a payload holds less than 8,000 bytes; the list at most 7,000; empty: any queue).
-- collab.notify_jobs and collab.notify_jobs_later write their payloads with it. One
-- expression, stable as array_to_string is, so that the planner inlines it into them.
create or replace function collab.queue_list(queues text[])
returns text
language sql
stable
parallel safe
as $$
  select case when octet_length(array_to_string(queue_list.queues, ',')) <= 7000
              then array_to_string(queue_list.queues, ',') else '' end
$$;
comment on function collab.queue_list(text[]) is
  'The comma-separated queues of a worker wake-up, or empty when they would not fit (then: any queue).';
