-- The schema the migrations build: tables, columns, keys, indexes, triggers, grants and Realtime.
begin;
select plan(38);

select has_table('public', 'projects', 'projects exists');
select has_table('public', 'generation_jobs', 'generation_jobs exists');
-- Later migrations may add columns; these are the ones the functions and clients rely on.
select is(
  array(
    select unnest(array['id', 'user_id', 'name', 'content', 'version', 'created_at', 'updated_at']::name[])
    except select attname from pg_attribute where attrelid = 'public.projects'::regclass and not attisdropped
  ),
  '{}'::name[],
  'projects has every column the functions use (lists the missing ones)'
);
select col_type_is('public', 'projects', 'content', 'jsonb', 'a canvas is jsonb');
select col_not_null('public', 'projects', 'content', 'a canvas is never null');
select col_default_is(
  'public', 'projects', 'content', '{"edges": [], "nodes": []}'::jsonb::text,
  'a new canvas is empty'
);
select col_type_is('public', 'projects', 'version', 'bigint', 'version is a bigint');
select col_is_pk('public', 'projects', 'id', 'projects are keyed by id');
select fk_ok('public', 'projects', 'user_id', 'auth', 'users', 'id', 'a project belongs to a user');
select is_indexed('public', 'projects', 'user_id', 'projects are indexed by owner');

select is(
  array(
    select unnest(array[
      'id', 'seq', 'project_id', 'node_id', 'user_id', 'model', 'endpoint', 'input', 'request_id',
      'status_url', 'response_url', 'cancel_url', 'status', 'result', 'error', 'created_at', 'updated_at',
      'finished_at'
    ]::name[])
    except select attname from pg_attribute
    where attrelid = 'public.generation_jobs'::regclass and not attisdropped
  ),
  '{}'::name[],
  'generation_jobs has every column the functions use (lists the missing ones)'
);
select col_is_pk('public', 'generation_jobs', 'id', 'jobs are keyed by id');
select col_is_unique('public', 'generation_jobs', 'request_id', 'a provider request id names one job');
select fk_ok('public', 'generation_jobs', 'project_id', 'public', 'projects', 'id', 'a job belongs to a project');
select fk_ok('public', 'generation_jobs', 'user_id', 'auth', 'users', 'id', 'a job belongs to a user');
select col_type_is('public', 'generation_jobs', 'status', 'generation_status', 'status is the enum');
select col_default_is('public', 'generation_jobs', 'status', 'submitting', 'a new job is submitting');
select enum_has_labels(
  'public', 'generation_status', array['submitting', 'pending', 'completed', 'failed', 'cancelled'],
  'the job statuses in order'
);
select index_is_unique(
  'public', 'generation_jobs', 'generation_jobs_one_live_per_node', 'one live job per node'
);
select is(
  (select pg_get_expr(i.indpred, i.indrelid) from pg_index i
   where i.indexrelid = 'public.generation_jobs_one_live_per_node'::regclass),
  '(status = ANY (ARRAY[''submitting''::generation_status, ''pending''::generation_status]))',
  'the unique index covers only live jobs'
);
select is_indexed(
  'public', 'generation_jobs', array['project_id', 'node_id', 'seq'], 'jobs are found by node, newest first'
);

select has_trigger('public', 'projects', 'projects_touch', 'projects are touched on update');
select trigger_is('public', 'projects', 'projects_touch', 'public', 'touch_project', 'by touch_project');
select has_trigger('public', 'generation_jobs', 'generation_jobs_touch', 'jobs are touched on update');

select is(
  (select relrowsecurity from pg_class where oid = 'public.projects'::regclass), true,
  'row level security is on for projects'
);
select is(
  (select relrowsecurity from pg_class where oid = 'public.generation_jobs'::regclass), true,
  'row level security is on for generation_jobs'
);

select table_privs_are('public', 'projects', 'anon', array[]::text[], 'anon has no access to projects');
select table_privs_are(
  'public', 'projects', 'authenticated', array['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  'users may read and write projects (rows limited by RLS)'
);
select table_privs_are('public', 'generation_jobs', 'anon', array[]::text[], 'anon has no access to jobs');
select table_privs_are(
  'public', 'generation_jobs', 'authenticated', array['SELECT'], 'users may only read jobs'
);

select has_function(
  'public', 'patch_node_data', array['uuid', 'text', 'jsonb', 'text[]'], 'the node patch function exists'
);
select function_returns('public', 'patch_node_data', array['uuid', 'text', 'jsonb', 'text[]'], 'boolean');
select function_privs_are(
  'public', 'patch_node_data', array['uuid', 'text', 'jsonb', 'text[]'], 'service_role', array['EXECUTE'],
  'the service role may patch nodes'
);
select function_privs_are(
  'public', 'patch_node_data', array['uuid', 'text', 'jsonb', 'text[]'], 'authenticated', array[]::text[],
  'users may not patch nodes'
);
select function_privs_are(
  'public', 'patch_node_data', array['uuid', 'text', 'jsonb', 'text[]'], 'anon', array[]::text[],
  'anon may not patch nodes'
);

select ok(
  exists (select 1 from pg_publication_tables
          where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'projects'),
  'Realtime publishes projects'
);
select throws_ok(
  $$insert into public.projects (user_id, name, content)
    values ('00000000-0000-4000-8000-00000000cafe', 'x', '{"nodes": {}}')$$,
  '23514', null, 'a canvas without a nodes array is refused'
);
select throws_ok(
  $$insert into public.projects (user_id, name) values ('00000000-0000-4000-8000-00000000cafe', 'x')$$,
  '23503', null, 'a project of an unknown user is refused'
);

select * from finish();
rollback;
