-- Raise a client error with a stable SQLSTATE (PTxxx -> HTTP status through PostgREST) and
-- a machine-readable DETAIL: {"reason": ..., "field": ...} plus any extra keys.
create or replace function collab.raise_error(
  code text,
  reason text,
  message text,
  field text default null,
  hint text default null,
  extra jsonb default '{}'
)
returns void
language plpgsql
volatile
as $$
begin
  raise exception using
    errcode = raise_error.code,
    message = raise_error.message,
    detail = (jsonb_build_object('reason', raise_error.reason, 'field', raise_error.field)
              || coalesce(raise_error.extra, '{}'::jsonb))::text,
    hint = coalesce(raise_error.hint, '');
end
$$;
comment on function collab.raise_error(text, text, text, text, text, jsonb) is
  'Raises an error with a stable SQLSTATE and a JSON DETAIL {"reason","field",...}; see docs/errors.md.';
