-- collab.job_row is inlined by the planner: the plan shows the ROW(...) it stands for, not
-- a call. (Declared IMMUTABLE over a stable enum-to-text cast it was called once per row, a
-- SQL-function call each: 10x slower for the rows of enqueue_batch and list_jobs.)
BEGIN;
select plan(2);

select ok(not exists (select 1 from tests.plan_lines('select collab.job_row(j) from collab.jobs j') line where line like '%job_row(%'),
          'no call of collab.job_row in the plan');
select ok(exists (select 1 from tests.plan_lines('select collab.job_row(j) from collab.jobs j') line where line like '%ROW(%id, %queue, %type, (%status)::text%'),
          'its row constructor instead');

select * from finish();
ROLLBACK;
