-- Rank the routes of a service for one LLM call (member): one call, one transaction, one
-- snapshot. Every route is a candidate; filters (request keys, OpenRouter's: only, ignore,
-- capabilities, tags, input_tokens + max_output_tokens within context_window, max_price
-- {prompt, completion} in USD per million tokens, data_collection deny) and state (disabled,
-- cooldown, rpm/tpm in the last minute, and in production mode a key that is missing,
-- deleted, expired, tampered or unavailable) exclude it with a reason; the others are ranked
-- by the service's strategy (docs/routing.md). Estimates come from the route's recent
-- append-only outcomes: latency = mean of the last `window` successes and timeouts (a
-- timeout counts timeout_penalty_ms), of only those of the last latency_ttl_seconds when
-- there are min_samples of them. Exploration: a route with fewer than min_samples samples
-- scores 0 (explored first), and so does one with fewer than min_samples fresh samples while
-- another candidate has that many: a route that lost its place on a few slow calls and was
-- then not picked is probed again once its samples age out, instead of being judged on them
-- for good (an unpicked route gets no new samples). When no route has fresh samples (a
-- service called less often than the TTL), the window's means rank as they are. Error rate
-- -- over error_window_seconds and calls/tokens of the last minute from its 10-second counters
-- (collab.route_counters). Routes whose score is within `buffer` of the best tie and are
-- ordered at random (latency and cost). Writes one collab.routing_snapshots row and returns
-- it: {snapshot_id, service, strategy, mode, created_at, candidates: [...]} with the ranked
-- candidates first (rank 1, 2, ...) and the excluded ones after (rank null, excluded_reason).
-- Cost (docs/bench.md): one statement with a generic plan (PL/pgSQL's custom plans planned
-- this statement again on every call), the last-minute and error-window figures from a few
-- counter rows per route (collab.route_counters) rather than from every recent outcome, the
-- vault's keys derived once per call.
create or replace function api.rank_routes(service text, request jsonb default '{}')
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
as $$
declare
  ws uuid := collab.require_role('member');
  now_ timestamptz := collab.clock();
  req jsonb := coalesce(rank_routes.request, '{}'::jsonb);
  st jsonb;
  mode text;
  in_tokens numeric;
  out_tokens numeric;
  kept jsonb;
  err_since timestamptz;
  since timestamptz;
  k text;
  cands jsonb;
  snap collab.routing_snapshots;
begin
  perform collab.check_name('service', rank_routes.service);
  if jsonb_typeof(req) <> 'object' or pg_catalog.octet_length(req::text) > 65536 then
    perform collab.raise_error('PT400', 'invalid_input', 'request must be a JSON object of at most 64 KiB', 'request');
  end if;
  foreach k in array array['input_tokens', 'max_output_tokens'] loop
    if req ? k and (jsonb_typeof(req -> k) <> 'number' or (req ->> k)::numeric not between 0 and 100000000) then
      perform collab.raise_error('PT400', 'invalid_input', format('request.%s must be a number between 0 and 100000000', k), 'request.' || k);
    end if;
  end loop;
  foreach k in array array['only', 'ignore', 'capabilities', 'tags'] loop
    if req ? k and (jsonb_typeof(req -> k) <> 'array' or jsonb_array_length(req -> k) > 100
                    or exists (select 1 from jsonb_array_elements(req -> k) e where jsonb_typeof(e) <> 'string')) then
      perform collab.raise_error('PT400', 'invalid_input', format('request.%s must be an array of at most 100 strings', k), 'request.' || k);
    end if;
  end loop;
  if req ? 'max_price' and (jsonb_typeof(req -> 'max_price') <> 'object'
       or exists (select 1 from jsonb_each(req -> 'max_price') e
                   where e.key not in ('prompt', 'completion') or jsonb_typeof(e.value) <> 'number')) then
    perform collab.raise_error('PT400', 'invalid_input',
      'request.max_price must be {"prompt": n, "completion": n} in USD per million tokens', 'request.max_price');
  end if;
  if req ? 'data_collection' and coalesce(req ->> 'data_collection', '') not in ('allow', 'deny') then
    perform collab.raise_error('PT400', 'invalid_input', 'request.data_collection must be allow or deny', 'request.data_collection');
  end if;
  -- only the routing keys are kept in the snapshot (never the prompt)
  kept := (select coalesce(jsonb_object_agg(e.key, e.value), '{}') from jsonb_each(req) e
            where e.key in ('input_tokens', 'max_output_tokens', 'only', 'ignore', 'capabilities', 'tags',
                            'max_price', 'data_collection'));
  st := collab.routing_settings(ws, rank_routes.service);
  mode := (collab.vault_settings_of(ws)).mode;
  in_tokens := coalesce((req ->> 'input_tokens')::numeric, 0);
  out_tokens := coalesce((req ->> 'max_output_tokens')::numeric, (st ->> 'default_output_tokens')::numeric);
  err_since := now_ - make_interval(secs => (st ->> 'error_window_seconds')::double precision);
  since := least(err_since, now_ - interval '1 minute');

  with r as materialized (
    select x.* from collab.routes x
     where x.workspace_id = ws and x.service = rank_routes.service
     order by x.name
     limit 100
  ), vk as materialized (
    -- the vault's keys, derived once per ranking (and only when a route names a secret)
    select pg_catalog.array_agg(kk.fingerprint) as fps, pg_catalog.array_agg(kk.enc_key) as encs,
           pg_catalog.array_agg(kk.mac_key) as macs
      from collab.vault_keys() kk
     where exists (select 1 from r where r.secret_name is not null)
  ), keys as materialized (
    -- each distinct secret is opened (decrypted and verified) once per ranking
    select k.secret_name,
           (select o.status from collab.vault_open_keyed(ws, k.secret_name, 'current', null, vk.fps, vk.encs, vk.macs) o) as status
      from (select distinct r.secret_name from r where r.secret_name is not null) k, vk
  ), recent as materialized (
    -- the route's counters (collab.route_counters: 10-second buckets, one row per writing
    -- backend) over the last minute and the error window; the oldest bucket, partly inside
    -- a window, counts pro rata
    select c.route,
           coalesce(sum(c.failures * c.w_err) / nullif(sum(c.calls * c.w_err), 0), 0) as error_rate,
           sum(c.calls * c.w_min) as calls_minute,
           sum(c.tokens * c.w_min) as tokens_minute
      from (select c.route, c.calls, c.failures, c.tokens,
                   least(1, greatest(0, date_part('epoch', c.bucket - err_since) / 10 + 1)) as w_err,
                   least(1, greatest(0, date_part('epoch', c.bucket - (now_ - interval '1 minute')) / 10 + 1)) as w_min
              from collab.route_counters c
             where c.workspace_id = ws and c.service = rank_routes.service
               -- the bound 'infinity' (always true) makes the generic plan estimate a narrow
               -- range rather than a third of the table: an index scan
               and c.bucket > since - interval '10 seconds' and c.bucket < 'infinity'::timestamptz) c
     group by c.route
  ), est as (
    select r.*,
           (in_tokens * r.input_price + out_tokens * r.output_price) / 1e6 as cost_estimate,
           case when lat.fresh >= (st ->> 'min_samples')::integer then lat.fresh_ms else coalesce(lat.latency_ms, 0) end
             as latency_ms,
           coalesce(lat.samples, 0) as samples, coalesce(lat.fresh, 0) as fresh_samples,
           coalesce(rec.error_rate, 0) as error_rate, coalesce(rec.calls_minute, 0) as calls_minute,
           coalesce(rec.tokens_minute, 0) as tokens_minute, cd.cooldown_until,
           coalesce(ks.status, 'none') as key_status
      from r
      left join keys ks on ks.secret_name = r.secret_name
      left join recent rec on rec.route = r.name
      left join lateral (
        select avg(o.ms) as latency_ms, count(*) as samples,
               avg(o.ms) filter (where o.created_at > now_ - make_interval(secs => (st ->> 'latency_ttl_seconds')::double precision))
                 as fresh_ms,
               count(*) filter (where o.created_at > now_ - make_interval(secs => (st ->> 'latency_ttl_seconds')::double precision))
                 as fresh
          from (select case when o.ok then o.latency_ms else (st ->> 'timeout_penalty_ms')::double precision end as ms,
                       o.created_at
                  from collab.route_outcomes o
                 where o.workspace_id = ws and o.service = r.service and o.route = r.name
                   and (o.ok or o.status = 408)
                 order by o.created_at desc
                 limit (st ->> 'window')::integer) o) lat on true
      left join lateral (
        select max(o.cooldown_until) as cooldown_until from collab.route_outcomes o
         where o.workspace_id = ws and o.service = r.service and o.route = r.name
           and o.cooldown_until is not null and o.cooldown_until > now_) cd on true
  ), judged as (
    select e.*,
           case
             when not e.enabled then 'disabled'
             when req ? 'only' and not (req -> 'only') ?| array[e.name, e.provider, e.model] then 'not_in_only'
             when req ? 'ignore' and (req -> 'ignore') ?| array[e.name, e.provider, e.model] then 'ignored'
             when req ? 'capabilities' and not e.capabilities @> array(select jsonb_array_elements_text(req -> 'capabilities'))
               then 'missing_capability'
             when req ? 'tags' and not e.tags @> array(select jsonb_array_elements_text(req -> 'tags')) then 'missing_tag'
             when in_tokens + out_tokens > e.context_window then 'context_window'
             when e.input_price > coalesce((req -> 'max_price' ->> 'prompt')::double precision, 'infinity')
               or e.output_price > coalesce((req -> 'max_price' ->> 'completion')::double precision, 'infinity') then 'max_price'
             when req ->> 'data_collection' = 'deny' and e.data_collection = 'allow' then 'data_collection'
             when e.cooldown_until is not null then 'cooldown'
             when e.rpm is not null and e.calls_minute >= e.rpm then 'rpm_limit'
             when e.tpm is not null and e.tokens_minute + in_tokens + out_tokens > e.tpm then 'tpm_limit'
             when mode = 'production' and e.key_status not in ('none', 'ok') then case e.key_status when 'key_unavailable' then 'key_unavailable' else 'key_' || e.key_status end
             when st ->> 'strategy' in ('weighted') and e.weight = 0 then 'weight_zero'
           end as excluded_reason,
           pg_catalog.random() as draw
      from est e
  ), scored as (
    select j.*,
           case st ->> 'strategy'
             when 'latency' then case when j.samples < (st ->> 'min_samples')::integer then 0
                                      when j.fresh_samples < (st ->> 'min_samples')::integer
                                           and j.any_fresh then 0
                                      else j.latency_ms end
             when 'cost' then j.cost_estimate
             when 'usage' then j.calls_minute::double precision
             when 'weighted' then -ln(greatest(j.draw, 1e-300)) / nullif(j.weight, 0)
             when 'price_weighted' then -ln(greatest(j.draw, 1e-300))
                                        * power(greatest(j.cost_estimate, (j.input_price + j.output_price) / 1e6, 1e-12), 2)
           end as score
      from (select j0.*,
                   -- does any candidate have min_samples fresh samples? (else: no re-probing)
                   coalesce(bool_or(j0.excluded_reason is null
                                    and j0.fresh_samples >= (st ->> 'min_samples')::integer) over (), false) as any_fresh
              from judged j0) j
  ), tied as (
    select s.*,
           st ->> 'strategy' in ('latency', 'cost')
             and s.excluded_reason is null
             and s.score <= min(s.score) filter (where s.excluded_reason is null) over ()
                            * (1 + (st ->> 'buffer')::double precision) as tie
      from scored s
  ), ranked as (
    select t.*,
           case when t.excluded_reason is null then
             row_number() over (order by t.excluded_reason is not null,
                                         case when t.tie then 0 else 1 end,
                                         case when t.tie then t.draw else t.score end,
                                         t.latency_ms, t.name)
           end as rank
      from tied t
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'route', x.name, 'provider', x.provider, 'model', x.model, 'base_url', x.base_url,
           'secret_name', x.secret_name, 'rank', x.rank,
           'score', case when x.excluded_reason is null then round(x.score::numeric, 6) end,
           'cost_estimate', round(x.cost_estimate::numeric, 9), 'latency_ms', round(x.latency_ms::numeric, 3),
           'samples', x.samples, 'fresh_samples', x.fresh_samples, 'error_rate', round(x.error_rate::numeric, 4),
           'calls_last_minute', round(x.calls_minute), 'cooldown_until', x.cooldown_until,
           'key_status', x.key_status, 'excluded_reason', x.excluded_reason)
           order by x.rank nulls last, x.name), '[]')
    into cands
    from ranked x;

  insert into collab.routing_snapshots (workspace_id, service, strategy, mode, request, candidates, chosen, created_at)
  values (ws, rank_routes.service, st ->> 'strategy', mode, kept, cands,
          (select c ->> 'route' from jsonb_array_elements(cands) c where (c ->> 'rank')::integer = 1), now_)
  returning * into snap;
  return jsonb_build_object('snapshot_id', snap.id, 'service', snap.service, 'strategy', snap.strategy,
                            'mode', snap.mode, 'chosen', snap.chosen, 'created_at', snap.created_at,
                            'request', snap.request, 'candidates', snap.candidates);
end
$$;
comment on function api.rank_routes(text, jsonb) is
  'Member. Rank the routes of a service for one call and write one snapshot: every candidate with rank, score, cost and latency estimates, error rate, cooldown_until, key status and, when excluded, why (filters of request: only, ignore, capabilities, tags, input_tokens/max_output_tokens vs context_window, max_price, data_collection; cooldown, rpm/tpm, a missing/expired/tampered key in production mode).';
revoke all on function api.rank_routes(text, jsonb) from public;
grant execute on function api.rank_routes(text, jsonb) to authenticated, service_role;
