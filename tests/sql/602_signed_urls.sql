-- Signed download URLs in Supabase Storage's shape: the token is an HS256 JWT {url, scope,
-- iat, exp} under the URL signing key; download_artifact serves the bytes (or a range) for
-- exactly the signed path until exp, and refuses a tampered, expired or wrong-path token.
-- A viewer signs what they can read; nobody signs another workspace's artifact.
BEGIN;
select plan(20);
select tests.tenancy_fixture();

-- Without a key, nothing is signed (a blank key file counts as none).
do $$ begin
  execute format('copy (select %L) to %L', '', current_setting('data_directory') || '/collab_url_signing_key.'
    || (select oid from pg_database where datname = current_database()));
end $$;
select tests.authenticate_as(tests.id('member'));
create temp table art as select * from api.put_artifact('out/report.txt', encode('0123456789', 'base64'), 'text/plain');
select is(tests.outcome(format('select api.sign_artifact(%s)', (select id from art))),
          '{"sqlstate": "PT503", "reason": "signing_unavailable", "field": null}'::jsonb,
          'without a signing key: PT503 signing_unavailable');
reset role;
select collab.set_url_signing_key('pgtap-url-signing-key-0123456789abcdef');
select is(encode(collab.hmac_sha256('key', 'The quick brown fox jumps over the lazy dog'), 'hex'),
          'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8', 'HMAC-SHA256 matches RFC 4231''s reference');

select tests.authenticate_as(tests.id('viewer'));
create temp table signed as select api.sign_artifact((select id from art), 60) as s;
select is((select s ->> 'path' from signed), tests.id('workspace_a') || '/' || (select id from art) || '/out/report.txt',
          'the path is <workspace_id>/<id>/<name>');
select is((select s ->> 'signedURL' from signed),
          '/object/sign/artifacts/' || (select s ->> 'path' from signed) || '?token=' || (select s ->> 'token' from signed),
          'signedURL is Storage''s /object/sign/<bucket>/<path>?token=');
select is((select convert_from(decode(rpad(translate(split_part(s ->> 'token', '.', 2), '-_', '+/'),
                                            (length(split_part(s ->> 'token', '.', 2)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb
                  - 'iat' - 'exp' from signed),
          jsonb_build_object('url', 'artifacts/' || (select s ->> 'path' from signed), 'scope', 'download'),
          'the token''s claims are url and scope download (with iat, exp)');
reset role;
select is((select split_part(s ->> 'token', '.', 3) from signed),
          (select collab.base64url(collab.hmac_sha256('pgtap-url-signing-key-0123456789abcdef',
                                   convert_to(split_part(s ->> 'token', '.', 1) || '.' || split_part(s ->> 'token', '.', 2), 'UTF8')))
             from signed), 'signed HS256 with the signing key');

create temp table url as select 'artifacts/' || (s ->> 'path') as path, s ->> 'token' as token from signed;
select tests.authenticate_as_service_role();
select is((select api.download_artifact(path, token)::bytea from url), '\x30313233343536373839'::bytea,
          'the gateway (service role) downloads the bytes with the token');
select is((select sha256(api.download_artifact(path, token)) from url), sha256('0123456789'), 'whose sha256 matches');
select is(current_setting('response.headers')::jsonb,
          jsonb_build_array(jsonb_build_object('X-Artifact-Size', '10'), jsonb_build_object('X-Artifact-Type', 'text/plain'),
                            jsonb_build_object('X-Artifact-Sha256', encode(sha256('0123456789'), 'hex')),
                            jsonb_build_object('X-Artifact-Range', '0-9')),
          'size, type, sha256 and range go to the response headers');
select is((select api.download_artifact(path, token, 2, 4)::bytea from url), '\x323334'::bytea, 'a range returns that slice');
select is((select api.download_artifact(path, token, null, 3)::bytea from url), '\x373839'::bytea, 'a suffix range the last bytes');
select is((select api.download_artifact(path, token, 8, null)::bytea from url), '\x3839'::bytea, 'an open range to the end');
select is(tests.outcome(format('select api.download_artifact(%L, %L, 10, null)', (select path from url), (select token from url))),
          '{"sqlstate": "PT416", "reason": "range_not_satisfiable", "field": "range_start", "size": 10}'::jsonb,
          'a range past the end is PT416');
select is(tests.outcome(format('select api.download_artifact(%L, %L)', (select path from url) || 'x', (select token from url))),
          '{"sqlstate": "PT400", "reason": "invalid_token", "field": "token", "error": "InvalidSignature"}'::jsonb,
          'the token of another path is refused');
select is(tests.outcome(format('select api.download_artifact(%L, %L)', (select path from url),
                               (select overlay(token placing case when substr(token, 40, 1) = 'A' then 'B' else 'A' end from 40 for 1) from url))),
          '{"sqlstate": "PT400", "reason": "invalid_token", "field": "token", "error": "InvalidJWT"}'::jsonb,
          'one changed character of the token is refused');
set local collab.clock_offset = '59 seconds';
select is((select octet_length(api.download_artifact(path, token)) from url), 10, 'one second before exp it still works');
set local collab.clock_offset = '61 seconds';
select is(tests.outcome(format('select api.download_artifact(%L, %L)', (select path from url), (select token from url))),
          '{"sqlstate": "PT400", "reason": "invalid_token", "field": "token", "error": "InvalidJWT"}'::jsonb,
          'one second past exp it is refused');
set local collab.clock_offset = '0';

select tests.authenticate_as(tests.id('outsider'));
select is(tests.outcome(format('select api.sign_artifact(%s)', (select id from art))) ->> 'reason', 'artifact_not_found',
          'a member of another workspace cannot sign it');
select is(tests.outcome(format('select api.sign_artifact(%s, 0)', (select id from art))) - 'sqlstate',
          '{"reason": "invalid_input", "field": "expires_in"}'::jsonb, 'expires_in must be 1-604800');
select tests.clear_authentication();
select is(tests.outcome(format('select api.sign_artifact(%s)', (select id from art))) ->> 'sqlstate', '42501',
          'anon cannot sign (no grant)');

select * from finish();
ROLLBACK;
