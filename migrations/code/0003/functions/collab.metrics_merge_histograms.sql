-- The sum of two sparse histograms {"<milliseconds>": count}: counts of equal keys add up.
create or replace function collab.metrics_merge_histograms(a jsonb, b jsonb)
returns jsonb
language sql
immutable
parallel safe
as $$
  select coalesce(jsonb_object_agg(k, n), '{}'::jsonb)
    from (select e.key as k, sum(e.value::bigint) as n
            from (select * from jsonb_each_text(coalesce(a, '{}'::jsonb))
                  union all
                  select * from jsonb_each_text(coalesce(b, '{}'::jsonb))) e
           group by e.key) s
$$;
comment on function collab.metrics_merge_histograms(jsonb, jsonb) is
  'Adds two sparse latency histograms {"<milliseconds>": count}.';
