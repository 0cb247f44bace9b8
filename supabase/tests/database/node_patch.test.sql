-- patch_node_data: merges keys into one node's data, drops others, and leaves every other node alone.
begin;
select plan(15);

insert into auth.users (id, email) values ('33333333-0000-4000-8000-000000000003', 'patch@node.test');
insert into public.projects (id, user_id, name, content) values (
  '33333333-0000-4000-8000-0000000000c1', '33333333-0000-4000-8000-000000000003', 'patch canvas',
  '{"nodes": [
      {"id": "text-1", "type": "text", "position": {"x": 0, "y": 0}, "data": {"text": "a prompt"}},
      {"id": "video-1", "type": "video", "position": {"x": 1, "y": 2},
       "data": {"instructions": "waves", "error": {"code": "old"}, "custom": {"keep": [1, 2]}}},
      {"id": "video-10", "type": "video", "position": {"x": 3, "y": 4}, "data": {"instructions": "gulls"}},
      {"id": "image-1", "type": "image", "position": {"x": 5, "y": 6}}
    ],
    "edges": [{"id": "e1", "source": "text-1", "target": "video-1"}],
    "viewport": {"x": 0, "y": 0, "zoom": 1}}'
);

create temporary table before_patch as
  select content, version, updated_at from public.projects where id = '33333333-0000-4000-8000-0000000000c1';

select is(
  public.patch_node_data(
    '33333333-0000-4000-8000-0000000000c1', 'video-1', '{"loading": true, "status": "pending"}', '{error}'
  ),
  true,
  'patching an existing node answers true'
);
select is(
  (select content #> '{nodes,1,data}' from public.projects where id = '33333333-0000-4000-8000-0000000000c1'),
  '{"instructions": "waves", "custom": {"keep": [1, 2]}, "loading": true, "status": "pending"}'::jsonb,
  'the keys are merged, the removed key is gone, the user''s keys stay'
);
select is(
  (select content #> '{nodes,2}' from public.projects where id = '33333333-0000-4000-8000-0000000000c1'),
  (select content #> '{nodes,2}' from before_patch),
  'a node whose id starts the same is untouched'
);
select is(
  (select content - 'nodes' from public.projects where id = '33333333-0000-4000-8000-0000000000c1'),
  (select content - 'nodes' from before_patch),
  'edges and viewport are untouched'
);
select is(
  (select content #> '{nodes,1,position}' from public.projects where id = '33333333-0000-4000-8000-0000000000c1'),
  '{"x": 1, "y": 2}'::jsonb,
  'the node''s other fields are untouched'
);
select is(
  (select version from public.projects where id = '33333333-0000-4000-8000-0000000000c1'),
  (select version + 1 from before_patch),
  'a patch bumps the project version'
);

select is(
  public.patch_node_data('33333333-0000-4000-8000-0000000000c1', 'image-1', '{"loading": true}'),
  true,
  'a node without data can be patched'
);
select is(
  (select content #> '{nodes,3,data}' from public.projects where id = '33333333-0000-4000-8000-0000000000c1'),
  '{"loading": true}'::jsonb,
  'a node without data gets one'
);

select is(
  public.patch_node_data(
    '33333333-0000-4000-8000-0000000000c1', 'video-1',
    '{"generated": {"url": "https://media.example/v.mp4", "type": "video/mp4"}, "loading": false}',
    '{status,requestId,error}'
  ),
  true,
  'a completion patch answers true'
);
select is(
  (select content #> '{nodes,1,data}' from public.projects where id = '33333333-0000-4000-8000-0000000000c1'),
  '{"instructions": "waves", "custom": {"keep": [1, 2]}, "loading": false,
    "generated": {"url": "https://media.example/v.mp4", "type": "video/mp4"}}'::jsonb,
  'removing absent keys is harmless; set keys overwrite'
);

select is(
  public.patch_node_data('33333333-0000-4000-8000-0000000000c1', 'no-such-node', '{"loading": true}'),
  false,
  'an absent node answers false'
);
select is(
  public.patch_node_data('00000000-0000-4000-8000-000000000000', 'video-1', '{"loading": true}'),
  false,
  'an absent project answers false'
);
select is(
  (select jsonb_array_length(content -> 'nodes') from public.projects
   where id = '33333333-0000-4000-8000-0000000000c1'),
  4,
  'no node is added or lost'
);

insert into public.generation_jobs (project_id, node_id, user_id, model, endpoint, input) values
  ('33333333-0000-4000-8000-0000000000c1', 'video-1', '33333333-0000-4000-8000-000000000003',
   'flux-dev', 'fal-ai/flux/dev', '{}');
select throws_ok(
  $$insert into public.generation_jobs (project_id, node_id, user_id, model, endpoint, input) values
    ('33333333-0000-4000-8000-0000000000c1', 'video-1', '33333333-0000-4000-8000-000000000003',
     'flux-dev', 'fal-ai/flux/dev', '{}')$$,
  '23505', null, 'a node cannot have two live jobs'
);
update public.generation_jobs set status = 'completed'
  where project_id = '33333333-0000-4000-8000-0000000000c1' and node_id = 'video-1';
select lives_ok(
  $$insert into public.generation_jobs (project_id, node_id, user_id, model, endpoint, input) values
    ('33333333-0000-4000-8000-0000000000c1', 'video-1', '33333333-0000-4000-8000-000000000003',
     'flux-dev', 'fal-ai/flux/dev', '{}')$$,
  'a node may start a new job once the last one finished'
);

select * from finish();
rollback;
