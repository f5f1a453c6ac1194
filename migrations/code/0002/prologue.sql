-- Snapshot of the code objects under sql/, applied by its revision. Do not edit:
-- change the files under sql/ and make a new revision (`collab migrate new`).
set check_function_bodies = off;
