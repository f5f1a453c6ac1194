-- The routing policy of a service: its strategy and its settings over the defaults
-- (docs/routing.md): latency window 10 samples (those of the last 10 s when there are 3),
-- a route with fewer than 3 (fresh, while another has 3 fresh) explored first, a timeout
-- counted as 1,000 s, tie buffer
-- 10 %, cooldown 5 s (Retry-After honoured up to 60 s) on 401/402/404/408/429 and 5xx, or
-- when more than 50 % of at least 5 calls in 60 s failed; error rate over 60 s; 256 output
-- tokens assumed when the request names none. PL/pgSQL: its plan is cached per session (a SQL
-- function called from PL/pgSQL is parsed and planned again in every transaction).
create or replace function collab.routing_settings(workspace_id uuid, service text)
returns jsonb
language plpgsql
stable
as $$
declare
  p collab.routing_policies;
begin
  select * into p from collab.routing_policies x
   where x.workspace_id = routing_settings.workspace_id and x.service = routing_settings.service;
  return jsonb_build_object(
           'window', 10, 'min_samples', 3, 'latency_ttl_seconds', 10, 'timeout_penalty_ms', 1000000, 'buffer', 0.1,
           'cooldowns', true, 'cooldown_seconds', 5, 'retry_after_cap_seconds', 60,
           'cooldown_statuses', jsonb_build_array(401, 402, 404, 408, 429), 'cooldown_5xx', true,
           'failure_threshold', 0.5, 'failure_min_requests', 5, 'failure_window_seconds', 60,
           'error_window_seconds', 60, 'default_output_tokens', 256)
         || coalesce(p.settings, '{}')
         || jsonb_build_object('strategy', coalesce(p.strategy, 'latency'));
end
$$;
comment on function collab.routing_settings(uuid, text) is
  'Strategy and settings of a service''s routing: the collab.routing_policies row over the defaults of docs/routing.md.';
