-- Canvases. `content` is the React Flow document {nodes, edges, viewport}; a node's `data` carries its
-- generation state, written only through the node-patch functions so no writer clobbers another.

create table public.projects (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  name text not null,
  content jsonb not null default '{"nodes": [], "edges": []}'::jsonb,
  -- Bumped on every write; clients send it back with their saves to detect stale copies.
  version bigint not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint projects_content_is_canvas check (
    jsonb_typeof(content) = 'object' and jsonb_typeof(content -> 'nodes') = 'array'
  )
);

create index projects_user_id_idx on public.projects (user_id);

create function public.touch_project() returns trigger
language plpgsql
as $$
begin
  new.updated_at := now();
  new.version := old.version + 1;
  return new;
end;
$$;

create trigger projects_touch
before update on public.projects
for each row execute function public.touch_project();

alter table public.projects enable row level security;

create policy "owners read their projects" on public.projects
  for select to authenticated using (user_id = auth.uid());
create policy "owners create their projects" on public.projects
  for insert to authenticated with check (user_id = auth.uid());
create policy "owners update their projects" on public.projects
  for update to authenticated using (user_id = auth.uid()) with check (user_id = auth.uid());
create policy "owners delete their projects" on public.projects
  for delete to authenticated using (user_id = auth.uid());

revoke all on public.projects from anon;
grant select, insert, update, delete on public.projects to authenticated;
grant all on public.projects to service_role;

alter publication supabase_realtime add table public.projects;
