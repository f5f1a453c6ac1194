
-- Nothing private is executable by PUBLIC; the api files grant what they expose.
revoke all on all functions in schema collab from public;
reset check_function_bodies;
