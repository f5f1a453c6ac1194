-- Record the outcome of one call of a route chosen by a snapshot (member): HTTP status (0: no
-- response, a connection error), latency, tokens, cost, error text, and the provider's
-- Retry-After in seconds. One append-only row, and one addition to this backend's own counter
-- row of the route's 10-second bucket (collab.route_counters: concurrent callers of one route
-- never wait on each other). Cooldown, LiteLLM's rules by default (configurable with
-- api.configure_routing; docs/routing.md): 429 (when the service has another enabled route),
-- the cooldown_statuses (401, 402, 404, 408, 429) and 5xx cool the route for cooldown_seconds
-- or Retry-After up to retry_after_cap_seconds; more than failure_threshold of at least
-- failure_min_requests calls in failure_window_seconds failing cools it too; other 4xx
-- (400, 413, 422, ...) neither cool nor fall back, except 409 which falls back and counts
-- towards the failure ratio; a connection error falls back without cooling. Returns {outcome_id,
-- ok, fallback, cooled, cooldown_until, reason, cooling}: on a failure, cooling names the
-- service's routes cooling down now, this call's cooldown and other callers' included, so that a
-- caller falling back down a snapshot's ranking skips a route another caller cooled after the
-- snapshot was taken (a fleet of agents shares its cooldowns; docs/routing.md).
create or replace function api.record_route_outcome(
  snapshot_id bigint, route text, status integer, latency_ms double precision default null,
  input_tokens integer default 0, output_tokens integer default 0, cost double precision default null,
  error text default null, retry_after double precision default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('member');
  now_ timestamptz := collab.clock();
  snap collab.routing_snapshots;
  st jsonb;
  ok boolean := record_route_outcome.status between 200 and 299;
  client_error boolean;
  cools boolean := false;
  why text;
  fails bigint;
  total bigint;
  until_ timestamptz;
  new_id bigint;
  cooling jsonb;
begin
  if record_route_outcome.status is null or record_route_outcome.status not between 0 and 599 then
    perform collab.raise_error('PT400', 'invalid_input', 'status must be an HTTP status (0: no response)', 'status');
  end if;
  if record_route_outcome.latency_ms is not null and record_route_outcome.latency_ms not between 0 and 100000000 then
    perform collab.raise_error('PT400', 'invalid_input', 'latency_ms must be between 0 and 100000000', 'latency_ms');
  end if;
  if coalesce(record_route_outcome.input_tokens, 0) not between 0 and 100000000
     or coalesce(record_route_outcome.output_tokens, 0) not between 0 and 100000000 then
    perform collab.raise_error('PT400', 'invalid_input', 'input_tokens and output_tokens must be between 0 and 100000000', 'input_tokens');
  end if;
  if record_route_outcome.cost is not null and record_route_outcome.cost not between 0 and 1000000 then
    perform collab.raise_error('PT400', 'invalid_input', 'cost must be between 0 and 1000000 (USD)', 'cost');
  end if;
  if record_route_outcome.retry_after is not null and record_route_outcome.retry_after not between 0 and 86400 then
    perform collab.raise_error('PT400', 'invalid_input', 'retry_after must be between 0 and 86400 seconds', 'retry_after');
  end if;
  select * into snap from collab.routing_snapshots s
   where s.workspace_id = ws and s.id = record_route_outcome.snapshot_id;
  if not found then
    perform collab.raise_error('PT404', 'snapshot_not_found',
      format('no routing snapshot %s in this workspace', record_route_outcome.snapshot_id), 'snapshot_id');
  end if;
  if not exists (select 1 from jsonb_array_elements(snap.candidates) c where c ->> 'route' = record_route_outcome.route) then
    perform collab.raise_error('PT404', 'route_not_found',
      format('route %s is not a candidate of snapshot %s', coalesce(quote_literal(left(record_route_outcome.route, 60)), 'null'),
             snap.id), 'route');
  end if;
  st := collab.routing_settings(ws, snap.service);
  -- a client error (400, 413, 422, ...: any 4xx that neither cools nor is retryable like
  -- 408, 409 and 429) is the request's fault: no fallback, no cooldown
  client_error := not ok and record_route_outcome.status between 400 and 499
                  and record_route_outcome.status not in (408, 409, 429)
                  and not (st -> 'cooldown_statuses') @> to_jsonb(record_route_outcome.status);
  if (st ->> 'cooldowns')::boolean and not ok and not client_error and record_route_outcome.status <> 0 then
    if record_route_outcome.status = 429 then
      cools := (select count(*) from collab.routes r
                 where r.workspace_id = ws and r.service = snap.service and r.enabled) > 1;
      why := case when cools then 'status_429' end;
    elsif (st -> 'cooldown_statuses') @> to_jsonb(record_route_outcome.status)
          or (record_route_outcome.status >= 500 and (st ->> 'cooldown_5xx')::boolean) then
      cools := true;
      why := 'status_' || record_route_outcome.status;
    end if;
  end if;
  if (st ->> 'cooldowns')::boolean and not ok and not client_error and not cools and record_route_outcome.status <> 0 then
    select count(*) filter (where not o.ok and o.status not in (400, 413, 422)) + 1, count(*) + 1 into fails, total
      from (select o.ok, o.status from collab.route_outcomes o
             where o.workspace_id = ws and o.service = snap.service and o.route = record_route_outcome.route
               and o.created_at > now_ - make_interval(secs => (st ->> 'failure_window_seconds')::double precision)
             order by o.created_at desc limit 1000) o;
    if total >= (st ->> 'failure_min_requests')::integer
       and fails::double precision / total > (st ->> 'failure_threshold')::double precision
       and (select count(*) from collab.routes r where r.workspace_id = ws and r.service = snap.service and r.enabled) > 1 then
      cools := true;
      why := 'failure_ratio';
    end if;
  end if;
  if cools then
    until_ := now_ + make_interval(secs => case
      when record_route_outcome.retry_after is not null
        then least(record_route_outcome.retry_after, (st ->> 'retry_after_cap_seconds')::double precision)
      else (st ->> 'cooldown_seconds')::double precision end);
  end if;
  insert into collab.route_outcomes (workspace_id, service, route, snapshot_id, status, ok, latency_ms,
                                     input_tokens, output_tokens, cost, error, cooldown_until, created_at)
  values (ws, snap.service, record_route_outcome.route, snap.id, record_route_outcome.status, ok,
          record_route_outcome.latency_ms, coalesce(record_route_outcome.input_tokens, 0),
          coalesce(record_route_outcome.output_tokens, 0), record_route_outcome.cost,
          left(record_route_outcome.error, 2000), until_, now_)
  returning id into new_id;
  -- this backend's counter row of the route's 10-second bucket (api.rank_routes' windows)
  insert into collab.route_counters as c (workspace_id, service, bucket, route, writer, calls, failures, tokens)
  values (ws, snap.service, to_timestamp(floor(extract(epoch from now_) / 10) * 10), record_route_outcome.route,
          pg_catalog.pg_backend_pid(), 1,
          case when not ok and record_route_outcome.status not in (400, 413, 422) then 1 else 0 end,
          coalesce(record_route_outcome.input_tokens, 0) + coalesce(record_route_outcome.output_tokens, 0))
  on conflict on constraint route_counters_pkey do update
    set calls = c.calls + 1, failures = c.failures + excluded.failures, tokens = c.tokens + excluded.tokens;
  -- on a failure, the routes of the service cooling now, read after this outcome's row: one
  -- probe of the partial cooldown index a route
  if not ok then
    select coalesce(jsonb_agg(r.name order by r.name), '[]'::jsonb) into cooling
      from collab.routes r
     where r.workspace_id = ws and r.service = snap.service
       and exists (select 1 from collab.route_outcomes o
                    where o.workspace_id = ws and o.service = r.service and o.route = r.name
                      and o.cooldown_until is not null and o.cooldown_until > now_);
  end if;
  return jsonb_build_object('outcome_id', new_id, 'ok', ok, 'fallback', not ok and not client_error,
                            'cooled', cools, 'cooldown_until', until_, 'reason', why, 'cooling', cooling);
end
$$;
comment on function api.record_route_outcome(bigint, text, integer, double precision, integer, integer, double precision, text, double precision) is
  'Member. Record one call of a route of a snapshot (status, 0 = no response; latency_ms, tokens, cost, error, retry_after seconds): one append-only row; cools the route by LiteLLM''s rules by default (docs/routing.md). Returns {outcome_id, ok, fallback, cooled, cooldown_until, reason, cooling}: on a failure (null on a success), cooling names the service''s routes cooling down now (this call''s cooldown and other callers'' included), which a caller falling back down its snapshot skips.';
revoke all on function api.record_route_outcome(bigint, text, integer, double precision, integer, integer, double precision, text, double precision) from public;
grant execute on function api.record_route_outcome(bigint, text, integer, double precision, integer, integer, double precision, text, double precision) to authenticated, service_role;
