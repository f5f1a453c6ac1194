-- The rules of an artifact name (the artifacts_name_valid constraint), checked first so the
-- caller gets PT400 invalid_input naming the field instead of a constraint violation.
create or replace function collab.check_artifact_name(name text, field text)
returns void
language plpgsql
immutable
as $$
begin
  if check_artifact_name.name is null or pg_catalog.length(check_artifact_name.name) not between 1 and 1024 then
    perform collab.raise_error('PT400', 'invalid_input',
      format('%s must be 1 to 1024 characters', check_artifact_name.field), check_artifact_name.field);
  end if;
  if check_artifact_name.name ~ '[[:cntrl:]?#%\\]' or check_artifact_name.name ~ '^/|/$|//'
     or check_artifact_name.name ~ '(^|/)\.\.?(/|$)' then
    perform collab.raise_error('PT400', 'invalid_input',
      format('%s must be a path like reports/summary.md: no control characters, none of ? # %% \, no leading or trailing /, no empty, . or .. segment',
             check_artifact_name.field), check_artifact_name.field);
  end if;
end
$$;
comment on function collab.check_artifact_name(text, text) is
  'PT400 invalid_input (naming field) unless name is a valid artifact name (the artifacts_name_valid rules).';
