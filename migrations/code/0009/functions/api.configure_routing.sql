-- Set the ranking strategy of a service and its settings (admin): strategy latency, cost,
-- usage, weighted or price_weighted; settings (merged into the current ones; docs/routing.md)
-- window (1-1000 samples), min_samples (0-1000), latency_ttl_seconds (1-86400),
-- timeout_penalty_ms, buffer (0-10), cooldowns (boolean),
-- cooldown_seconds (0-3600), retry_after_cap_seconds (0-3600), cooldown_statuses (array of
-- 4xx codes), cooldown_5xx (boolean), failure_threshold (0-1), failure_min_requests (1-10000),
-- failure_window_seconds and error_window_seconds (1-3600), default_output_tokens.
create or replace function api.configure_routing(service text, strategy text default null, settings jsonb default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
  merged jsonb;
  k text;
  bounds jsonb := '{"window": [1, 1000], "min_samples": [0, 1000], "latency_ttl_seconds": [1, 86400],
                    "timeout_penalty_ms": [0, 100000000], "buffer": [0, 10],
                    "cooldown_seconds": [0, 3600], "retry_after_cap_seconds": [0, 3600],
                    "failure_threshold": [0, 1], "failure_min_requests": [1, 10000],
                    "failure_window_seconds": [1, 3600], "error_window_seconds": [1, 3600],
                    "default_output_tokens": [0, 10000000]}';
begin
  perform collab.check_name('service', configure_routing.service);
  if configure_routing.strategy is not null
     and configure_routing.strategy not in ('latency', 'cost', 'usage', 'weighted', 'price_weighted') then
    perform collab.raise_error('PT400', 'invalid_input',
      'strategy must be latency, cost, usage, weighted or price_weighted', 'strategy');
  end if;
  if configure_routing.settings is not null and jsonb_typeof(configure_routing.settings) <> 'object' then
    perform collab.raise_error('PT400', 'invalid_input', 'settings must be a JSON object', 'settings');
  end if;
  for k in select jsonb_object_keys(coalesce(configure_routing.settings, '{}')) loop
    if bounds ? k then
      if jsonb_typeof(configure_routing.settings -> k) <> 'number'
         or (configure_routing.settings ->> k)::numeric not between (bounds -> k ->> 0)::numeric and (bounds -> k ->> 1)::numeric then
        perform collab.raise_error('PT400', 'invalid_input',
          format('settings.%s must be a number between %s and %s', k, bounds -> k ->> 0, bounds -> k ->> 1), 'settings.' || k);
      end if;
    elsif k in ('cooldowns', 'cooldown_5xx') then
      if jsonb_typeof(configure_routing.settings -> k) <> 'boolean' then
        perform collab.raise_error('PT400', 'invalid_input', format('settings.%s must be true or false', k), 'settings.' || k);
      end if;
    elsif k = 'cooldown_statuses' then
      if jsonb_typeof(configure_routing.settings -> k) <> 'array'
         or exists (select 1 from jsonb_array_elements(configure_routing.settings -> k) e
                     where jsonb_typeof(e) <> 'number' or e::text !~ '^4[0-9][0-9]$') then
        perform collab.raise_error('PT400', 'invalid_input', 'settings.cooldown_statuses must be an array of 4xx statuses',
          'settings.cooldown_statuses');
      end if;
    else
      perform collab.raise_error('PT400', 'invalid_input', format('unknown routing setting %s', quote_literal(left(k, 60))),
        'settings');
    end if;
  end loop;
  insert into collab.routing_policies (workspace_id, service, strategy, settings, updated_at)
  values (ws, configure_routing.service, coalesce(configure_routing.strategy, 'latency'),
          coalesce(configure_routing.settings, '{}'), collab.clock())
  on conflict on constraint routing_policies_pkey do update set
    strategy = coalesce(configure_routing.strategy, collab.routing_policies.strategy),
    settings = collab.routing_policies.settings || coalesce(configure_routing.settings, '{}'),
    updated_at = excluded.updated_at;
  merged := collab.routing_settings(ws, configure_routing.service);
  if (merged ->> 'min_samples')::integer > (merged ->> 'window')::integer then
    -- the row written above goes with the error
    perform collab.raise_error('PT400', 'invalid_input',
      format('settings.min_samples (%s) must not exceed settings.window (%s)', merged ->> 'min_samples', merged ->> 'window'),
      'settings.min_samples');
  end if;
  return jsonb_build_object('service', configure_routing.service, 'strategy', merged ->> 'strategy',
                            'settings', merged - 'strategy');
end
$$;
comment on function api.configure_routing(text, text, jsonb) is
  'Admin. The ranking strategy of a service (latency, cost, usage, weighted, price_weighted) and its settings merged into the current ones (docs/routing.md); returns them with the defaults filled in.';
revoke all on function api.configure_routing(text, text, jsonb) from public;
grant execute on function api.configure_routing(text, text, jsonb) to authenticated, service_role;
