-- Token bucket: take `cost` tokens for `action` from each limit configured for the workspace
-- (scope workspace: the fullest of its `shards` rows that no other transaction holds; scope
-- executor: the executor's own row; scope user, action functions: the caller's own row, the
-- caller's id passed as executor_id). The refill (collab.bucket_tokens) is computed on the row itself, so concurrent
-- callers of one bucket serialize on that row only. Short of tokens: PT429 rate_limited with
-- retry_after (seconds, at most a day: a batch dearer than the burst never fits) in DETAIL; the refused call rolls back, so it consumes nothing.
-- Without a configured limit this is one primary-key probe of collab.rate_limits.
create or replace function collab.take_tokens(workspace_id uuid, action text, executor_id uuid, cost double precision)
returns void
language plpgsql
volatile
as $$
declare
  lim record;
  now_ timestamptz := collab.clock();
  left_ double precision;
  subject_ text;
  shard_ integer;
begin
  for lim in
    select l.* from collab.rate_limits l
     where l.workspace_id = take_tokens.workspace_id and l.action = take_tokens.action
  loop
    left_ := null;
    if lim.scope in ('executor', 'user') then  -- executor_id: the executor, or the caller (user)
      continue when take_tokens.executor_id is null;
      subject_ := take_tokens.executor_id::text;
      shard_ := 0;
      -- The executor's own row: one UPDATE (the row exists after the first call).
      update collab.rate_buckets b
         set tokens = collab.bucket_tokens(b.tokens, b.refreshed_at, now_, lim.rate_per_second / lim.shards,
                                         lim.burst / lim.shards) - take_tokens.cost,
             refreshed_at = greatest(b.refreshed_at, now_)
       where b.workspace_id = take_tokens.workspace_id and b.action = take_tokens.action
         and b.subject = subject_ and b.shard = 0
      returning b.tokens into left_;
    else
      subject_ := '';
      -- The fullest shard no other transaction holds, taken and updated in one statement, so
      -- concurrent callers never queue on one row (a shared row would serialize commits).
      update collab.rate_buckets b
         set tokens = collab.bucket_tokens(b.tokens, b.refreshed_at, now_, lim.rate_per_second / lim.shards,
                                         lim.burst / lim.shards) - take_tokens.cost,
             refreshed_at = greatest(b.refreshed_at, now_)
       where (b.workspace_id, b.action, b.subject, b.shard) = (
               select f.workspace_id, f.action, f.subject, f.shard from collab.rate_buckets f
                where f.workspace_id = take_tokens.workspace_id and f.action = take_tokens.action
                  and f.subject = '' and f.shard < lim.shards
                order by f.tokens desc
                for update skip locked
                limit 1)
      returning b.tokens, b.shard into left_, shard_;
      if not found then
        shard_ := pg_catalog.pg_backend_pid() % lim.shards;
      end if;
    end if;
    if left_ is null then
      -- First use of this bucket (or every shard busy): create or update the row.
      insert into collab.rate_buckets as b (workspace_id, action, subject, shard, tokens, refreshed_at)
      values (take_tokens.workspace_id, take_tokens.action, subject_, shard_,
              lim.burst / lim.shards - take_tokens.cost, now_)
      on conflict on constraint rate_buckets_pkey do update
         set tokens = collab.bucket_tokens(b.tokens, b.refreshed_at, now_, lim.rate_per_second / lim.shards,
                                         lim.burst / lim.shards) - take_tokens.cost,
             refreshed_at = greatest(b.refreshed_at, now_)
      returning b.tokens into left_;
    end if;
    if left_ < 0 then
      perform collab.raise_error('PT429', 'rate_limited',
        format('rate limit for %s (%s) exceeded: at most %s per second, bursts of %s',
               take_tokens.action, lim.scope, lim.rate_per_second, lim.burst),
        case take_tokens.action when 'enqueue' then 'jobs' when 'functions' then 'function' else 'executor_id' end,
        'wait retry_after seconds, then try again',
        jsonb_build_object('retry_after',
          least(ceil(-left_ / (lim.rate_per_second / lim.shards) * 1000) / 1000, 86400),
          'scope', lim.scope, 'action', take_tokens.action));
    end if;
  end loop;
end
$$;
comment on function collab.take_tokens(uuid, text, uuid, double precision) is
  'Takes cost tokens from the configured rate-limit buckets of the action; raises PT429 rate_limited with retry_after when short.';
