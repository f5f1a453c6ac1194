"""The surface: artifacts (issue 14), LLM routing and the key vault (issue 15), search (issue 16).

Each block of DDL below stands, with the same text, in sql/schema.sql.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 21:08:38.545271
"""

from __future__ import annotations

from collab.migration_ops import apply_snapshot, execute_script, reset_code

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The code objects (functions, views, triggers, policies) of this revision.
SNAPSHOT = "0008"
PREVIOUS_SNAPSHOT = "0007"

# -- tables: issue 14 (artifacts) -----------------------------------------------------------
ARTIFACTS_UP = r"""
alter type collab.job_event_type add value if not exists 'artifact_created';  -- a job left an artifact (api.put_artifact with job_id)
comment on type collab.job_event_type is 'What happened to a job (one job_events row per change, or an artifact it left) or to an executor''s presence.';

create table collab.artifact_blobs (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  sha256 bytea not null,
  size bigint not null,
  content bytea not null,
  created_at timestamptz not null,
  primary key (workspace_id, sha256),
  constraint artifact_blobs_sha256_length check (octet_length(sha256) = 32),
  constraint artifact_blobs_size_matches check (size = octet_length(content))
);
-- Stored out of line, uncompressed: a Range request reads only the chunks it needs.
alter table collab.artifact_blobs alter column content set storage external;
comment on table collab.artifact_blobs is 'Artifact bytes, content-addressed: one row per workspace and sha256, however many artifacts point at it; removed with the last artifact that points at it.';

create table collab.artifacts (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  id bigint generated always as identity,
  job_id bigint,
  name text not null,
  media_type text not null,
  size bigint not null,
  sha256 bytea not null,
  metadata jsonb not null default '{}',
  created_by uuid,
  created_at timestamptz not null,
  primary key (workspace_id, id),
  constraint artifacts_blob_fk foreign key (workspace_id, sha256)
    references collab.artifact_blobs (workspace_id, sha256),
  constraint artifacts_name_valid check (
    length(name) between 1 and 1024 and name !~ '[[:cntrl:]?#%\\]' and name !~ '^/|/$|//'
    and name !~ '(^|/)\.\.?(/|$)'),
  constraint artifacts_media_type_valid check (
    length(media_type) <= 255 and media_type ~* '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*( *;.*)?$'
    and media_type ~ '^[\x20-\x7e]+$'),
  constraint artifacts_size_positive check (size >= 0),
  constraint artifacts_metadata_object check (jsonb_typeof(metadata) = 'object')
);
comment on table collab.artifacts is 'Artifacts (documents, code, logs, JSON): metadata of a named blob, attached to a job or to none. No foreign key to collab.jobs: api.put_artifact checks that the job exists.';
comment on column collab.artifacts.job_id is 'The job that left it (in the same workspace), or null.';
comment on column collab.artifacts.name is 'A path-like name (a/b/report.md): 1-1024 characters, no control characters, none of ? # % \, no empty, "." or ".." segment. Not unique: the signed URL path is <workspace_id>/<id>/<name>.';
comment on column collab.artifacts.sha256 is 'sha256 of the bytes: the key of collab.artifact_blobs, the ETag of a download.';
comment on column collab.artifacts.created_by is 'auth.uid() of the caller that put it; null for a service caller.';
create index artifacts_created_idx on collab.artifacts (workspace_id, created_at, id);
create index artifacts_job_idx on collab.artifacts (workspace_id, job_id, created_at, id) where job_id is not null;
create index artifacts_name_idx on collab.artifacts (workspace_id, name collate "C", created_at, id);
create index artifacts_blob_idx on collab.artifacts (workspace_id, sha256);

create table collab.artifact_usage (
  workspace_id uuid primary key references collab.workspaces (id) on delete cascade,
  stored_bytes bigint not null default 0,
  max_artifact_bytes bigint not null default 33554432,
  max_stored_bytes bigint not null default 10737418240,
  constraint artifact_usage_stored_bytes_positive check (stored_bytes >= 0),
  constraint artifact_usage_max_artifact_bytes_range check (max_artifact_bytes between 1 and 67108864),
  constraint artifact_usage_max_stored_bytes_range check (max_stored_bytes between 1 and 1099511627776)
);
comment on table collab.artifact_usage is 'Artifact quotas and usage per workspace (no row: the defaults, nothing stored): bytes of the workspace''s blobs, counted once per sha256.';
comment on column collab.artifact_usage.stored_bytes is 'Sum of the sizes of the workspace''s collab.artifact_blobs (kept by api.put_artifact and api.delete_artifact).';
comment on column collab.artifact_usage.max_artifact_bytes is 'Largest artifact api.put_artifact accepts (default 32 MiB; at most 64 MiB, the transport''s ceiling): PT413 artifact_too_large.';
comment on column collab.artifact_usage.max_stored_bytes is 'Most bytes of blobs the workspace may store (default 10 GiB): PT413 storage_quota_exceeded.';

alter table collab.artifact_blobs enable row level security;
alter table collab.artifacts enable row level security;
alter table collab.artifact_usage enable row level security;
grant select, insert, update, delete on collab.artifact_blobs, collab.artifacts, collab.artifact_usage to service_role;

create type api.artifact as (
  id bigint,
  job_id bigint,
  name text,
  media_type text,
  size bigint,
  sha256 text,
  metadata jsonb,
  created_by uuid,
  created_at timestamptz
);
comment on type api.artifact is 'An artifact as the api returns it (sha256 in hex).';
-- PostgREST (12+) answers a function returning this domain with the raw bytes when the
-- request accepts application/octet-stream (its media type handlers): api.download_artifact.
create domain api."application/octet-stream" as bytea;
comment on domain api."application/octet-stream" is 'Raw bytes: PostgREST serves a function returning it as application/octet-stream.';

-- The Edge Functions' per-caller quota (api.function_quota): rate limits of action
-- `functions`, per workspace or per signed-in user (scope `user`: one bucket per caller).
alter table collab.rate_limits drop constraint rate_limits_action_valid;
alter table collab.rate_limits add constraint rate_limits_action_valid check (action in (
  'enqueue',    -- jobs enqueued (a batch costs one token per job)
  'claim',      -- claim calls
  'functions'   -- Edge Function calls (api.function_quota, one token per call)
));
alter table collab.rate_limits drop constraint rate_limits_scope_valid;
alter table collab.rate_limits add constraint rate_limits_scope_valid check (scope in (
  'workspace',  -- one budget for the whole workspace
  'executor',   -- one budget per executor (claim only)
  'user'        -- one budget per signed-in caller (functions only)
));
alter table collab.rate_limits add constraint rate_limits_user_functions_only check (scope <> 'user' or action = 'functions');
"""
ARTIFACTS_DOWN = r"""
delete from collab.rate_buckets where action = 'functions';
delete from collab.rate_limits where action = 'functions';
alter table collab.rate_limits drop constraint rate_limits_user_functions_only;
alter table collab.rate_limits drop constraint rate_limits_scope_valid;
alter table collab.rate_limits add constraint rate_limits_scope_valid check (scope in (
  'workspace',  -- one budget for the whole workspace
  'executor'    -- one budget per executor (claim only)
));
alter table collab.rate_limits drop constraint rate_limits_action_valid;
alter table collab.rate_limits add constraint rate_limits_action_valid check (action in (
  'enqueue',  -- jobs enqueued (a batch costs one token per job)
  'claim'     -- claim calls
));
drop type api.artifact;
drop domain api."application/octet-stream";
drop table collab.artifact_usage;
drop table collab.artifacts;
drop table collab.artifact_blobs;
-- A value cannot be removed from an enum: artifact_created stays in collab.job_event_type.
comment on type collab.job_event_type is 'What happened to a job (one job_events row per change) or to an executor''s presence.';
"""

# -- tables: issue 15 (routing) -------------------------------------------------------------
ROUTING_UP = r"""
-- Routes: one provider/model per service (e.g. "chat") and workspace, ranked by
-- api.rank_routes. Outcomes are append-only (no row is ever updated, so concurrent callers of
-- one route never wait on each other); estimates and cooldowns are computed from recent ones.
create table collab.routes (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  service text not null,
  name text not null,
  provider text not null,
  model text not null,
  base_url text,
  input_price double precision not null default 0,
  output_price double precision not null default 0,
  context_window integer not null default 8192,
  capabilities text[] not null default '{}',
  tags text[] not null default '{}',
  region text,
  data_collection text not null default 'deny',
  weight double precision not null default 1,
  rpm integer,
  tpm integer,
  secret_name text,
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, service, name),
  constraint routes_prices_valid check (input_price >= 0 and output_price >= 0),
  constraint routes_context_window_range check (context_window between 1 and 100000000),
  constraint routes_data_collection_valid check (data_collection in (
    'deny',   -- the provider does not store or train on prompts
    'allow'   -- the provider may store prompts (excluded by a request with data_collection=deny)
  )),
  constraint routes_weight_range check (weight >= 0 and weight <= 1000000),
  constraint routes_limits_positive check (coalesce(rpm, 1) > 0 and coalesce(tpm, 1) > 0)
);
comment on table collab.routes is 'LLM routes per workspace and service: provider, model, OpenAI-compatible base_url, prices in USD per million input/output tokens, context window, capabilities (tools, json, vision), tags, region, data-collection policy, weight, rpm/tpm limits and the vault secret holding its key (api.put_route, api.rank_routes).';

create table collab.routing_policies (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  service text not null,
  strategy text not null default 'latency',
  settings jsonb not null default '{}',
  updated_at timestamptz not null default now(),
  primary key (workspace_id, service),
  constraint routing_policies_strategy_valid check (strategy in (
    'latency',         -- lowest mean latency of the recent window; ties within buffer chosen uniformly
    'cost',            -- lowest estimated cost of the request
    'usage',           -- least used in the current minute (calls, relative to rpm/tpm when set)
    'weighted',        -- weighted shuffle by route weight
    'price_weighted'   -- weighted shuffle by the inverse square of price (OpenRouter's default)
  )),
  constraint routing_policies_settings_object check (jsonb_typeof(settings) = 'object')
);
comment on table collab.routing_policies is 'The ranking strategy of a service and its settings (latency window, tie buffer, cooldown rules); no row: strategy latency with the defaults of docs/routing.md.';

create table collab.routing_snapshots (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  id bigint generated always as identity,
  service text not null,
  strategy text not null,
  mode text not null,
  request jsonb not null,
  candidates jsonb not null,
  chosen text,
  created_at timestamptz not null,
  primary key (workspace_id, id)
);
comment on table collab.routing_snapshots is 'One row per api.rank_routes call: every candidate with rank, score, cost and latency estimates, error rate, cooldown_until and the reason an excluded one was excluded.';
create index routing_snapshots_service_idx on collab.routing_snapshots (workspace_id, service, id desc);

create table collab.route_outcomes (
  workspace_id uuid not null,
  id bigint generated always as identity,
  service text not null,
  route text not null,
  snapshot_id bigint not null,
  status integer not null,
  ok boolean not null,
  latency_ms double precision,
  input_tokens integer not null default 0,
  output_tokens integer not null default 0,
  cost double precision,
  error text,
  cooldown_until timestamptz,
  created_at timestamptz not null,
  primary key (workspace_id, id)
);
comment on table collab.route_outcomes is 'Append-only: one row per call of a route (api.record_route_outcome), never updated; latency and error estimates and cooldowns (cooldown_until) are read from the recent rows of a route.';
create index route_outcomes_route_idx on collab.route_outcomes (workspace_id, service, route, created_at desc);
create index route_outcomes_cooldown_idx on collab.route_outcomes (workspace_id, service, route, cooldown_until)
  where cooldown_until is not null;

-- Per-route call counters in 10-second buckets, one row per bucket, route and writing backend
-- (pg_backend_pid): api.record_route_outcome adds to its own backend's row, so no two callers
-- ever wait on one row (no hot row), and api.rank_routes reads a few rows per route for its
-- last-minute and error-window figures instead of every outcome. collab.reap deletes buckets
-- older than two hours.
create table collab.route_counters (
  workspace_id uuid not null,
  service text not null,
  bucket timestamptz not null,
  route text not null,
  writer integer not null,
  calls integer not null default 0,
  failures integer not null default 0,
  tokens bigint not null default 0,
  primary key (workspace_id, service, bucket, route, writer)
);
comment on table collab.route_counters is 'Calls, failures (not ok, except 400/413/422) and tokens per route in 10-second buckets, one row per writing backend (no hot row); api.rank_routes sums the buckets of its windows, the oldest one pro rata.';
create index route_counters_bucket_idx on collab.route_counters (bucket);

alter table collab.routes enable row level security;
alter table collab.routing_policies enable row level security;
alter table collab.routing_snapshots enable row level security;
alter table collab.route_outcomes enable row level security;
alter table collab.route_counters enable row level security;
grant select, insert, update, delete on collab.routes, collab.routing_policies,
  collab.routing_snapshots, collab.route_outcomes, collab.route_counters to service_role;
"""
ROUTING_DOWN = r"""
drop table if exists collab.route_counters;
drop table if exists collab.route_outcomes;
drop table if exists collab.routing_snapshots;
drop table if exists collab.routing_policies;
drop table if exists collab.routes;
"""

# -- tables: issue 15 (key vault) -----------------------------------------------------------
VAULT_UP = r"""
-- pgcrypto (aes256 PGP symmetric encryption, HMAC-SHA256) in schema extensions, where
-- Supabase keeps it. The master key is in no table: see docs/vault.md.
create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;

create table collab.vault_settings (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  mode text not null default 'production',
  max_versions integer not null default 10,
  recovery_days integer not null default 30,
  updated_at timestamptz not null default now(),
  primary key (workspace_id),
  constraint vault_settings_mode_valid check (mode in (
    'production',   -- expired, missing or tampered keys are refused and never ranked
    'development'   -- an expired key is read with a warning; routes without a valid key still rank
  )),
  constraint vault_settings_max_versions_range check (max_versions between 1 and 100),
  constraint vault_settings_recovery_days_range check (recovery_days between 7 and 30)
);
comment on table collab.vault_settings is 'Vault settings of a workspace (api.configure_vault): mode, versions kept per secret, recovery window of a soft delete in days; no row: production, 10, 30.';

create table collab.secrets (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  name text not null,
  description text,
  version integer not null default 0,
  deleted_at timestamptz,
  recoverable_until timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, name),
  constraint secrets_deleted_consistent check ((deleted_at is null) = (recoverable_until is null))
);
comment on table collab.secrets is 'A named secret of a workspace: its latest version number (check-and-set), and deleted_at/recoverable_until while soft-deleted (api.delete_secret, api.restore_secret).';
-- collab.reap destroys the soft-deleted secrets whose recovery window has passed
create index secrets_recoverable_idx on collab.secrets (recoverable_until) where recoverable_until is not null;

create table collab.secret_versions (
  workspace_id uuid not null,
  name text not null,
  version integer not null,
  label text,
  ciphertext bytea not null,
  ciphertext_mac bytea not null,
  checksum bytea not null,
  key_fingerprint bytea not null,
  expires_at timestamptz,
  created_at timestamptz not null,
  created_by text not null,
  primary key (workspace_id, name, version),
  foreign key (workspace_id, name) references collab.secrets (workspace_id, name) on delete cascade,
  constraint secret_versions_label_valid check (label in (
    'current',   -- what a reader gets by default
    'previous'   -- the version current before the last rotation (readable during a roll-over)
  ))
);
comment on table collab.secret_versions is 'Versions of a secret: pgp_sym_encrypt(aes256) ciphertext, an HMAC over it (checked before decrypting), a keyed checksum binding workspace, name, version and plaintext (checked after), the fingerprint of the master key that encrypted it, expiry; labels current/previous.';
create unique index secret_versions_label_idx on collab.secret_versions (workspace_id, name, label) where label is not null;

create table collab.secret_audit (
  workspace_id uuid not null,
  id bigint generated always as identity,
  name text not null,
  version integer,
  action text not null,
  outcome text not null,
  reason text,
  actor text not null,
  created_at timestamptz not null,
  primary key (workspace_id, id),
  constraint secret_audit_action_valid check (action in (
    'read',      -- api.read_secret
    'write',     -- api.put_secret creating a secret
    'rotate',    -- api.put_secret adding a version to an existing secret
    'delete',    -- api.delete_secret (soft)
    'restore',   -- api.restore_secret
    'destroy',   -- api.delete_secret(destroy => true)
    'rewrap'     -- api.rewrap_secrets (master key rotation)
  )),
  constraint secret_audit_outcome_valid check (outcome in (
    'ok',        -- done
    'warned',    -- done with a warning (development mode: expired)
    'denied'     -- refused; the refusal is returned, not raised, so this row commits
  ))
);
comment on table collab.secret_audit is 'Append-only audit of the vault: one row per read, write, rotation, delete, restore, destroy and denied read. Only the owner of collab can update or delete rows (no role is granted either).';
create index secret_audit_name_idx on collab.secret_audit (workspace_id, name, id desc);

alter table collab.vault_settings enable row level security;
alter table collab.secrets enable row level security;
alter table collab.secret_versions enable row level security;
alter table collab.secret_audit enable row level security;
grant select, insert, update, delete on collab.vault_settings, collab.secrets,
  collab.secret_versions to service_role;
grant select on collab.secret_audit to service_role;
"""
VAULT_DOWN = r"""
drop table if exists collab.secret_audit;
drop table if exists collab.secret_versions;
drop table if exists collab.secrets;
drop table if exists collab.vault_settings;
"""

# -- tables: issue 16 (search) --------------------------------------------------------------
SEARCH_UP = r"""
create table collab.search_collections (
  workspace_id uuid not null references collab.workspaces (id) on delete cascade,
  name text not null,
  document_count bigint not null default 0,
  total_length double precision not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, name),
  constraint search_collections_name_valid check (name ~ '^[A-Za-z0-9][A-Za-z0-9._:-]*$' and length(name) <= 100),
  constraint search_collections_counts_valid check (document_count >= 0 and total_length >= 0)
);
comment on table collab.search_collections is 'Search collections of a workspace (issue 16) with the collection statistics BM25 needs: document_count (N) and total_length (N x the mean weighted length), kept by collab.search_index in the transaction that indexes.';
comment on column collab.search_collections.total_length is 'Sum of the weighted lengths (collab.search_documents.length) of the collection''s documents.';

create table collab.search_documents (
  workspace_id uuid not null,
  collection text not null,
  id bigint generated always as identity,
  key text not null,
  title text not null default '',
  path text not null default '',
  body text not null default '',
  metadata jsonb not null default '{}',
  length real not null,
  terms text[] not null default '{}',
  indexed_at timestamptz not null default now(),
  primary key (workspace_id, id),
  constraint search_documents_key_unique unique (workspace_id, collection, key),
  foreign key (workspace_id, collection) references collab.search_collections (workspace_id, name) on delete cascade,
  constraint search_documents_key_valid check (length(key) between 1 and 500)
);
comment on table collab.search_documents is 'Indexed documents (issue 16): one row per key and collection, with its fields as given; written only through collab.search_index (api.index_documents, text artifacts).';
comment on column collab.search_documents.key is 'The caller''s identifier of the document (a corpus id, an artifact''s path): indexing the same key again replaces the document.';
comment on column collab.search_documents.terms is 'The terms it has postings for (collab.search_terms at indexing time): replacing or dropping the document deletes exactly those postings, by primary key.';
comment on column collab.search_documents.length is 'Weighted length: the sum of the field-weighted term frequencies of its postings (BM25''s document length).';

create table collab.search_postings (
  workspace_id uuid not null,
  collection text not null,
  term text not null,
  document_id bigint not null,
  frequency real not null,
  length real not null,
  primary key (workspace_id, collection, term, document_id) include (frequency, length)
);
comment on table collab.search_postings is 'The inverted index (issue 16): one row per term and document, with the field-weighted term frequency and the document''s weighted length, so a query reads no document row before its top k; document frequencies are in collab.search_vocabulary.';

create table collab.search_vocabulary (
  workspace_id uuid not null,
  collection text not null,
  term text not null,
  document_frequency bigint not null,
  primary key (workspace_id, collection, term),
  constraint search_vocabulary_frequency_valid check (document_frequency >= 0)
);
comment on table collab.search_vocabulary is 'Document frequency of every term of a collection (issue 16): the number of its documents with a posting for the term, kept by collab.search_index (under the collection row''s lock) so that BM25''s idf is one primary-key read per query term.';

alter table collab.search_collections enable row level security;
alter table collab.search_documents enable row level security;
alter table collab.search_postings enable row level security;
alter table collab.search_vocabulary enable row level security;
grant select, insert, update, delete on collab.search_collections, collab.search_documents,
  collab.search_postings, collab.search_vocabulary to service_role;
"""
SEARCH_DOWN = r"""
drop table if exists collab.search_vocabulary;
drop table if exists collab.search_postings;
drop table if exists collab.search_documents;
drop table if exists collab.search_collections;
"""


def _run(*scripts: str) -> None:
    for script in scripts:
        if script.strip():
            execute_script(script)


def upgrade() -> None:
    reset_code()
    _run(ARTIFACTS_UP, ROUTING_UP, VAULT_UP, SEARCH_UP)
    apply_snapshot(SNAPSHOT)


def downgrade() -> None:
    reset_code()
    _run(SEARCH_DOWN, VAULT_DOWN, ROUTING_DOWN, ARTIFACTS_DOWN)
    apply_snapshot(PREVIOUS_SNAPSHOT)
