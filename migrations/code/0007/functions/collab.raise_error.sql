-- Raise a client error with a stable SQLSTATE (PTxxx -> HTTP status through PostgREST) and
-- a machine-readable DETAIL: {"reason": ..., "field": ...} plus any extra keys.
-- Through PostgREST (a request of its login role `authenticator`), a PT429 is raised instead
-- as SQLSTATE 'PGRST' with the same code, message, details and hint plus a `Retry-After`
-- header (whole seconds: ceil(retry_after), 1 when the DETAIL has none): PostgREST (12 to 14)
-- applies that status and header itself, so a 429 carries Retry-After on a real Supabase
-- project too, with no gateway of ours. Everywhere else (psql, the Python client, pgTAP) it
-- is the plain PTxxx error.
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
declare
  details text := (jsonb_build_object('reason', raise_error.reason, 'field', raise_error.field)
                   || coalesce(raise_error.extra, '{}'::jsonb))::text;
  -- PostgREST 12 sends a PTxxx message as the HTTP reason phrase: a control character that a
  -- caller put in a name (CR LF: response splitting) must never reach the status line.
  safe_message text := pg_catalog.regexp_replace(raise_error.message, '[[:cntrl:]]', '?', 'g');
begin
  if raise_error.code = 'PT429' and session_user = 'authenticator'
     and coalesce(pg_catalog.current_setting('request.method', true), '') <> '' then
    raise sqlstate 'PGRST' using
      message = jsonb_build_object('code', raise_error.code, 'message', safe_message,
                                   'details', details, 'hint', raise_error.hint)::text,
      detail = jsonb_build_object('status', 429, 'headers', jsonb_build_object('Retry-After',
                 greatest(1, ceil(coalesce((raise_error.extra ->> 'retry_after')::numeric, 1)))::bigint::text))::text;
  end if;
  raise exception using
    errcode = raise_error.code,
    message = safe_message,
    detail = details,
    hint = coalesce(raise_error.hint, '');
end
$$;
comment on function collab.raise_error(text, text, text, text, text, jsonb) is
  'Raises an error with a stable SQLSTATE and a JSON DETAIL {"reason","field",...}; see docs/errors.md.';
