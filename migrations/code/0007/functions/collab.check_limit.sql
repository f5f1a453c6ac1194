-- Raise PT429 quota_exceeded when `used` exceeds the operator limit `quota` (queues,
-- executors, stored_jobs, workspaces_per_user) of limits `limits`.
create or replace function collab.check_limit(quota text, used bigint, limits jsonb, field text)
returns void
language plpgsql
stable
as $$
declare
  cap bigint := (check_limit.limits ->> check_limit.quota)::bigint;
begin
  if check_limit.used > cap then
    perform collab.raise_error('PT429', 'quota_exceeded',
      format('the limit of %s %s is reached (%s asked)', cap, replace(check_limit.quota, '_', ' '), check_limit.used),
      check_limit.field, 'ask the operator to raise the limit (it is not a workspace setting)',
      jsonb_build_object('quota', check_limit.quota, 'limit', cap));
  end if;
end
$$;
comment on function collab.check_limit(text, bigint, jsonb, text) is
  'Raises PT429 quota_exceeded {quota, limit} when used exceeds the operator limit named quota.';
