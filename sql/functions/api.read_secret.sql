-- Read a secret (service role only): the version labelled `label` ('current' by default,
-- or 'previous' during a roll-over) or the given `version`, decrypted and verified (the
-- ciphertext MAC, then the checksum binding workspace, name, version and plaintext).
-- Exactly one audit row per call, including every denied read: a denial is RETURNED, not
-- raised, so the transaction commits with its audit row. The denial has PostgREST's error
-- shape ({code, message, details, hint}: details holds {"reason": ...}) and sets the HTTP
-- status (response.status) so that over REST it is an ordinary 404/409/410 error; the Python
-- client raises it. Reasons: secret_not_found (PT404), secret_deleted and secret_expired
-- (PT410; expired is only a warning in development mode), secret_tampered and
-- vault_key_unavailable (PT409). See docs/vault.md.
create or replace function api.read_secret(name text, label text default 'current', version integer default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  ws uuid := collab.vault_service_workspace();
  mode text := (collab.vault_settings_of(ws)).mode;
  o record;
  code text;
  reason text;
  message text;
begin
  perform collab.check_name('name', read_secret.name);
  if read_secret.version is null and (read_secret.label is null or read_secret.label not in ('current', 'previous')) then
    perform collab.raise_error('PT400', 'invalid_input', 'label must be current or previous (or give a version)', 'label');
  end if;
  select * into o from collab.vault_open(ws, read_secret.name, read_secret.label, read_secret.version);
  if o.status = 'ok' or (o.status = 'expired' and mode = 'development') then
    if o.status = 'expired' then
      raise warning 'collab vault: secret % version % expired at % (development mode: read anyway)',
        read_secret.name, o.version, o.expires_at;
    end if;
    perform collab.vault_audit(ws, read_secret.name, o.version, 'read',
      case o.status when 'ok' then 'ok' else 'warned' end,
      case o.status when 'ok' then null else 'secret_expired' end);
    return jsonb_build_object('name', read_secret.name, 'version', o.version, 'label', o.label,
      'value', o.value, 'expires_at', o.expires_at,
      'warnings', case o.status when 'ok' then '[]'::jsonb else '["secret_expired"]'::jsonb end);
  end if;
  select c.code, c.reason, c.message into code, reason, message from (values
    ('missing', 'PT404', 'secret_not_found', format('no secret %s (label %s, version %s)', read_secret.name,
       coalesce(read_secret.label, '-'), coalesce(read_secret.version::text, '-'))),
    ('deleted', 'PT410', 'secret_deleted', format('secret %s is deleted (api.restore_secret within its recovery window)', read_secret.name)),
    ('expired', 'PT410', 'secret_expired', format('secret %s version %s expired at %s', read_secret.name, o.version, o.expires_at)),
    ('tampered', 'PT409', 'secret_tampered', format('secret %s version %s failed its integrity check: refused', read_secret.name, o.version)),
    ('key_unavailable', 'PT409', 'vault_key_unavailable', format('the master key that encrypted secret %s version %s is not available', read_secret.name, o.version))
  ) c(status, code, reason, message) where c.status = o.status;
  perform collab.vault_audit(ws, read_secret.name, o.version, 'read', 'denied', reason);
  perform pg_catalog.set_config('response.status', substr(code, 3), true);
  return jsonb_build_object('code', code, 'message', message,
    'details', jsonb_build_object('reason', reason, 'field', 'name', 'name', read_secret.name, 'version', o.version)::text,
    'hint', case reason
      when 'secret_expired' then 'store a new version with api.put_secret'
      when 'secret_tampered' then 'the stored row was changed outside the vault: restore it from a backup or store a new version'
      when 'vault_key_unavailable' then 'install the master key (docs/vault.md)'
      else null end);
end
$$;
comment on function api.read_secret(text, text, integer) is
  'Service role only. Decrypt and verify a secret (label current or previous, or a version); one audit row per call. A refusal (secret_not_found, secret_deleted, secret_expired, secret_tampered, vault_key_unavailable) is returned in PostgREST''s error shape with the HTTP status set, so its audit row commits.';
revoke all on function api.read_secret(text, text, integer) from public;
grant execute on function api.read_secret(text, text, integer) to service_role;
