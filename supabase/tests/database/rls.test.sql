-- Row level security: a user sees and changes only their own canvases and jobs; anon sees nothing.
begin;
select plan(16);

insert into auth.users (id, email) values
  ('11111111-0000-4000-8000-000000000001', 'owner@rls.test'),
  ('22222222-0000-4000-8000-000000000002', 'other@rls.test');
insert into public.projects (id, user_id, name) values
  ('11111111-0000-4000-8000-0000000000a1', '11111111-0000-4000-8000-000000000001', 'owner''s canvas'),
  ('22222222-0000-4000-8000-0000000000b1', '22222222-0000-4000-8000-000000000002', 'other''s canvas');
insert into public.generation_jobs (project_id, node_id, user_id, model, endpoint, input) values
  ('11111111-0000-4000-8000-0000000000a1', 'video-1', '11111111-0000-4000-8000-000000000001',
   'flux-dev', 'fal-ai/flux/dev', '{}'),
  ('22222222-0000-4000-8000-0000000000b1', 'video-1', '22222222-0000-4000-8000-000000000002',
   'flux-dev', 'fal-ai/flux/dev', '{}');

select policies_are(
  'public', 'projects',
  array['owners read their projects', 'owners create their projects', 'owners update their projects',
        'owners delete their projects'],
  'projects have exactly the owner policies'
);
select policies_are('public', 'generation_jobs', array['owners read their jobs'], 'jobs are read-only to owners');
select policy_roles_are(
  'public', 'projects', 'owners read their projects', array['authenticated'], 'only signed-in users'
);

-- As the owner, with the claims PostgREST and Realtime set from the access token.
set local role authenticated;
set local request.jwt.claims = '{"sub": "11111111-0000-4000-8000-000000000001", "role": "authenticated"}';

select results_eq(
  $$select name from public.projects where id in ('11111111-0000-4000-8000-0000000000a1',
    '22222222-0000-4000-8000-0000000000b1')$$,
  array['owner''s canvas'],
  'a user sees only their own project'
);
select results_eq(
  $$select count(*)::int from public.generation_jobs where project_id in
    ('11111111-0000-4000-8000-0000000000a1', '22222222-0000-4000-8000-0000000000b1')$$,
  array[1],
  'a user sees only their own jobs'
);
select lives_ok(
  $$update public.projects set name = 'renamed' where id = '11111111-0000-4000-8000-0000000000a1'$$,
  'a user may rename their project'
);
select is(
  (select version from public.projects where id = '11111111-0000-4000-8000-0000000000a1'), 2::bigint,
  'an update bumps the version'
);
update public.projects set name = 'stolen' where id = '22222222-0000-4000-8000-0000000000b1';
select is(
  (select count(*)::int from public.projects where name = 'stolen'), 0,
  'an update of another user''s project changes nothing'
);
delete from public.projects where id = '22222222-0000-4000-8000-0000000000b1';
select throws_ok(
  $$insert into public.projects (user_id, name) values ('22222222-0000-4000-8000-000000000002', 'forged')$$,
  '42501', null, 'a user may not create a project for someone else'
);
select throws_ok(
  $$update public.projects set user_id = '22222222-0000-4000-8000-000000000002'
    where id = '11111111-0000-4000-8000-0000000000a1'$$,
  '42501', null, 'a user may not give a project away'
);
select throws_ok(
  $$update public.generation_jobs set status = 'completed'$$,
  '42501', null, 'a user may not change a job'
);
select throws_ok(
  $$insert into public.generation_jobs (project_id, node_id, user_id, model, endpoint, input)
    values ('11111111-0000-4000-8000-0000000000a1', 'x', '11111111-0000-4000-8000-000000000001', 'm', 'e', '{}')$$,
  '42501', null, 'a user may not create a job'
);
select throws_ok(
  $$select public.patch_node_data('11111111-0000-4000-8000-0000000000a1', 'video-1', '{"loading": true}')$$,
  '42501', null, 'a user may not call the node patch function'
);

reset role;
select is(
  (select count(*)::int from public.projects where id = '22222222-0000-4000-8000-0000000000b1'), 1,
  'the other user''s project survived the delete attempt'
);

set local role anon;
set local request.jwt.claims = '{"role": "anon"}';
select throws_ok('select count(*) from public.projects', '42501', null, 'anon may not read projects');

reset role;
set local role service_role;
select is(
  (select count(*)::int from public.projects where id in ('11111111-0000-4000-8000-0000000000a1',
    '22222222-0000-4000-8000-0000000000b1')),
  2,
  'the service role sees every project'
);

select * from finish();
rollback;
