-- The Edge Functions' quota: each call of a function (metrics-overview, jobs-recent,
-- artifacts-list, sign-artifact) first takes one token from the `functions` rate limits of the
-- caller's workspace (api.configure_rate_limit: scope workspace, or user for one bucket per
-- signed-in caller). Over it: PT429 rate_limited with retry_after (Retry-After through REST).
-- No limit configured: one primary-key probe. Viewer role.
create or replace function api.function_quota(name text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('viewer');
begin
  if function_quota.name is null or function_quota.name !~ '^[a-z0-9][a-z0-9_-]{0,62}$' then
    perform collab.raise_error('PT400', 'invalid_input',
      'name must be an Edge Function name (lower-case letters, digits, - and _)', 'name');
  end if;
  perform collab.take_tokens(ws, 'functions', collab.caller_id(), 1);
  return jsonb_build_object('function', function_quota.name, 'allowed', true);
end
$$;
comment on function api.function_quota(text) is
  'Takes one token for a call of the Edge Function `name` from the workspace''s functions rate limits (per workspace, or per caller with scope user); PT429 rate_limited with retry_after when over. Viewer role.';
revoke all on function api.function_quota(text) from public;
grant execute on function api.function_quota(text) to authenticated, service_role;
