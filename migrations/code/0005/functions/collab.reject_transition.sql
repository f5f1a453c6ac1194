-- Raises PT409 illegal_transition for a job change the state machine forbids.
create or replace function collab.reject_transition(
  job_id bigint,
  from_status collab.job_status,
  to_status collab.job_status,
  event collab.job_event_type
)
returns boolean
language plpgsql
volatile
as $$
begin
  perform collab.raise_error('PT409', 'illegal_transition',
    format('job %s cannot go from %s to %s (%s)', job_id, from_status, to_status, event),
    'status', 'the job changed meanwhile: read it again',
    jsonb_build_object('job_id', job_id, 'from', from_status, 'to', to_status, 'event', event));
  return false;
end
$$;
comment on function collab.reject_transition(bigint, collab.job_status, collab.job_status, collab.job_event_type) is
  'Raises PT409 illegal_transition naming the job and the refused change.';
