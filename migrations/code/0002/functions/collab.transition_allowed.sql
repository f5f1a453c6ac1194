-- The job state machine: which (from, to, event) changes are legal. Anything else is
-- rejected by the events trigger, whoever issues the UPDATE.
-- No SET clause, so the planner can inline it (names are schema-qualified).
create or replace function collab.transition_allowed(
  from_status collab.job_status,
  to_status collab.job_status,
  event collab.job_event_type
)
returns boolean
language sql
immutable
parallel safe
as $$
  select case
    when from_status is null then to_status = 'queued' and event = 'enqueued'
    when from_status = 'queued' and to_status = 'running' then event = 'claimed'
    when from_status = 'queued' and to_status = 'cancelled' then event = 'cancelled'
    when from_status = 'running' and to_status = 'running' then event in ('progress', 'cancel_requested')
    when from_status = 'running' and to_status = 'succeeded' then event = 'succeeded'
    when from_status = 'running' and to_status = 'queued'
      then event in ('retry_scheduled', 'lease_expired', 'lease_released')
    when from_status = 'running' and to_status = 'dead' then event = 'dead'
    when from_status = 'running' and to_status = 'cancelled' then event = 'cancelled'
    when from_status = 'dead' and to_status = 'queued' then event = 'requeued'
    else false
  end
$$;
comment on function collab.transition_allowed(collab.job_status, collab.job_status, collab.job_event_type) is
  'The job state machine: true when changing from_status to to_status with this event is legal.';
