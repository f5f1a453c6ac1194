-- Set or remove (rate_per_second null) a rate limit of the caller's workspace (admin).
create or replace function api.configure_rate_limit(
  action text,
  scope text default 'workspace',
  rate_per_second double precision default null,
  burst double precision default null,
  shards integer default 1
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
begin
  if configure_rate_limit.action is null or configure_rate_limit.action not in ('enqueue', 'claim', 'functions') then
    perform collab.raise_error('PT400', 'invalid_input', 'action must be enqueue, claim or functions', 'action');
  end if;
  if configure_rate_limit.scope is null or configure_rate_limit.scope not in ('workspace', 'executor', 'user')
     or (configure_rate_limit.scope = 'executor' and configure_rate_limit.action <> 'claim')
     or (configure_rate_limit.scope = 'user' and configure_rate_limit.action <> 'functions') then
    perform collab.raise_error('PT400', 'invalid_input',
      'scope must be workspace, executor for claim, or user for functions', 'scope');
  end if;
  if configure_rate_limit.rate_per_second is null then
    delete from collab.rate_limits l
     where l.workspace_id = ws and l.action = configure_rate_limit.action and l.scope = configure_rate_limit.scope;
    delete from collab.rate_buckets b
     where b.workspace_id = ws and b.action = configure_rate_limit.action;
    return null;
  end if;
  -- At least one token per 1,000 s: a subnormal rate (1e-320) made take_tokens' retry_after
  -- overflow into 22003 instead of PT429 (finding 9 of the security review).
  if configure_rate_limit.rate_per_second < 0.001 or configure_rate_limit.rate_per_second > 1e6 then
    perform collab.raise_error('PT400', 'invalid_input', 'rate_per_second must be between 0.001 and 1000000', 'rate_per_second');
  end if;
  if configure_rate_limit.burst is not null and (configure_rate_limit.burst < 1 or configure_rate_limit.burst > 1e7) then
    perform collab.raise_error('PT400', 'invalid_input', 'burst must be between 1 and 10000000', 'burst');
  end if;
  if configure_rate_limit.shards is null or configure_rate_limit.shards not between 1 and 64
     or coalesce(configure_rate_limit.burst, greatest(configure_rate_limit.rate_per_second, 1)) < configure_rate_limit.shards then
    perform collab.raise_error('PT400', 'invalid_input',
      'shards must be between 1 and 64 and at most burst (each shard holds burst/shards tokens)', 'shards');
  end if;
  insert into collab.rate_limits as l (workspace_id, action, scope, rate_per_second, burst, shards)
  values (ws, configure_rate_limit.action, configure_rate_limit.scope, configure_rate_limit.rate_per_second,
          coalesce(configure_rate_limit.burst, greatest(configure_rate_limit.rate_per_second, 1)),
          configure_rate_limit.shards)
  on conflict on constraint rate_limits_pkey do update
     set rate_per_second = excluded.rate_per_second, burst = excluded.burst, shards = excluded.shards;
  delete from collab.rate_buckets b
   where b.workspace_id = ws and b.action = configure_rate_limit.action;
  return (select to_jsonb(l) - 'workspace_id' from collab.rate_limits l
           where l.workspace_id = ws and l.action = configure_rate_limit.action and l.scope = configure_rate_limit.scope);
end
$$;
comment on function api.configure_rate_limit(text, text, double precision, double precision, integer) is
  'Token-bucket rate limit of the workspace (admin): action enqueue (one token per job), claim (one per call) or functions (one per Edge Function call, api.function_quota); scope workspace, executor (claim only, one bucket per executor) or user (functions only, one bucket per signed-in caller); rate_per_second refill (0.001-1000000), burst capacity (default: the rate), shards to spread a busy workspace bucket over rows. rate_per_second null removes the limit. Over the limit: PT429 rate_limited with retry_after seconds.';
revoke all on function api.configure_rate_limit(text, text, double precision, double precision, integer) from public;
grant execute on function api.configure_rate_limit(text, text, double precision, double precision, integer) to authenticated, service_role;
