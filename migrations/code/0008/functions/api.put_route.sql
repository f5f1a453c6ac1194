-- Create or replace a route of a service (admin): provider and model, the OpenAI-compatible
-- base_url, prices in USD per million input/output tokens, context window, capabilities
-- (e.g. tools, json, vision), tags, region, data_collection (deny: the provider keeps no
-- prompts; allow), weight (weighted strategies; 0: never picked by them), rpm/tpm limits,
-- the vault secret holding its key (null: none needed, e.g. a local server), enabled.
create or replace function api.put_route(
  service text, name text, provider text, model text, base_url text default null,
  input_price double precision default 0, output_price double precision default 0,
  context_window integer default 8192, capabilities text[] default '{}', tags text[] default '{}',
  region text default null, data_collection text default 'deny', weight double precision default 1,
  rpm integer default null, tpm integer default null, secret_name text default null,
  enabled boolean default true)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.require_role('admin');
  r collab.routes;
begin
  perform collab.check_name('service', put_route.service);
  perform collab.check_name('name', put_route.name);
  perform collab.check_name('provider', put_route.provider);
  if put_route.model is null or length(put_route.model) not between 1 and 200 then
    perform collab.raise_error('PT400', 'invalid_input', 'model must be 1-200 characters', 'model');
  end if;
  if put_route.base_url is not null and (length(put_route.base_url) > 2000 or put_route.base_url !~ '^https?://') then
    perform collab.raise_error('PT400', 'invalid_input', 'base_url must be an http(s) URL of at most 2000 characters', 'base_url');
  end if;
  if coalesce(put_route.input_price, -1) not between 0 and 1000000 or coalesce(put_route.output_price, -1) not between 0 and 1000000 then
    perform collab.raise_error('PT400', 'invalid_input', 'input_price and output_price must be between 0 and 1000000 (USD per million tokens)', 'input_price');
  end if;
  if coalesce(put_route.context_window, 0) not between 1 and 100000000 then
    perform collab.raise_error('PT400', 'invalid_input', 'context_window must be between 1 and 100000000', 'context_window');
  end if;
  if cardinality(put_route.capabilities) > 50 or cardinality(put_route.tags) > 50 then
    perform collab.raise_error('PT400', 'invalid_input', 'at most 50 capabilities and 50 tags', 'capabilities');
  end if;
  if coalesce(put_route.data_collection, '') not in ('deny', 'allow') then
    perform collab.raise_error('PT400', 'invalid_input', 'data_collection must be deny or allow', 'data_collection');
  end if;
  if coalesce(put_route.weight, -1) not between 0 and 1000000 then
    perform collab.raise_error('PT400', 'invalid_input', 'weight must be between 0 and 1000000', 'weight');
  end if;
  if put_route.rpm is not null and put_route.rpm < 1 or put_route.tpm is not null and put_route.tpm < 1 then
    perform collab.raise_error('PT400', 'invalid_input', 'rpm and tpm must be positive (null: no limit)', 'rpm');
  end if;
  if put_route.secret_name is not null then
    perform collab.check_name('secret_name', put_route.secret_name);
  end if;
  if length(put_route.region) > 100 then
    perform collab.raise_error('PT400', 'invalid_input', 'region must be at most 100 characters', 'region');
  end if;
  if (select count(*) from collab.routes x where x.workspace_id = ws and x.service = put_route.service
        and x.name <> put_route.name) >= 100 then
    perform collab.raise_error('PT400', 'invalid_input', 'a service has at most 100 routes', 'name');
  end if;
  insert into collab.routes (workspace_id, service, name, provider, model, base_url, input_price, output_price,
                             context_window, capabilities, tags, region, data_collection, weight, rpm, tpm,
                             secret_name, enabled, created_at, updated_at)
  values (ws, put_route.service, put_route.name, put_route.provider, put_route.model, put_route.base_url,
          put_route.input_price, put_route.output_price, put_route.context_window,
          coalesce(put_route.capabilities, '{}'), coalesce(put_route.tags, '{}'), put_route.region,
          put_route.data_collection, put_route.weight, put_route.rpm, put_route.tpm, put_route.secret_name,
          coalesce(put_route.enabled, true), collab.clock(), collab.clock())
  on conflict on constraint routes_pkey do update set
    provider = excluded.provider, model = excluded.model, base_url = excluded.base_url,
    input_price = excluded.input_price, output_price = excluded.output_price,
    context_window = excluded.context_window, capabilities = excluded.capabilities, tags = excluded.tags,
    region = excluded.region, data_collection = excluded.data_collection, weight = excluded.weight,
    rpm = excluded.rpm, tpm = excluded.tpm, secret_name = excluded.secret_name, enabled = excluded.enabled,
    updated_at = excluded.updated_at
  returning * into r;
  return to_jsonb(r) - 'workspace_id';
end
$$;
comment on function api.put_route(text, text, text, text, text, double precision, double precision, integer, text[], text[], text, text, double precision, integer, integer, text, boolean) is
  'Admin. Create or replace a route of a service: provider, model, base_url, prices (USD per million input/output tokens), context_window, capabilities, tags, region, data_collection (deny/allow), weight, rpm/tpm, secret_name (the vault key), enabled. At most 100 routes per service.';
revoke all on function api.put_route(text, text, text, text, text, double precision, double precision, integer, text[], text[], text, text, double precision, integer, integer, text, boolean) from public;
grant execute on function api.put_route(text, text, text, text, text, double precision, double precision, integer, text[], text[], text, text, double precision, integer, integer, text, boolean) to authenticated, service_role;
