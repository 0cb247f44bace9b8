-- One row per provider request. The row is written before the provider is called, so a webhook can
-- always find its job, and a job that never hears back can be found and resolved later.

create type public.generation_status as enum ('submitting', 'pending', 'completed', 'failed', 'cancelled');

create table public.generation_jobs (
  id uuid primary key default gen_random_uuid(),
  -- Allocation order of jobs: the newest job of a node is its current generation.
  seq bigint generated always as identity,
  project_id uuid not null references public.projects (id) on delete cascade,
  node_id text not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  model text not null,
  endpoint text not null,
  input jsonb not null,
  request_id text unique,
  status_url text,
  response_url text,
  cancel_url text,
  status public.generation_status not null default 'submitting',
  result jsonb,
  error jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);

-- At most one live generation per node: a second submit for the same node fails on this index.
create unique index generation_jobs_one_live_per_node
  on public.generation_jobs (project_id, node_id)
  where status in ('submitting', 'pending');

create index generation_jobs_node_idx on public.generation_jobs (project_id, node_id, seq desc);
create index generation_jobs_live_idx on public.generation_jobs (updated_at)
  where status in ('submitting', 'pending');

create function public.touch_generation_job() returns trigger
language plpgsql
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

create trigger generation_jobs_touch
before update on public.generation_jobs
for each row execute function public.touch_generation_job();

alter table public.generation_jobs enable row level security;

create policy "owners read their jobs" on public.generation_jobs
  for select to authenticated using (user_id = auth.uid());

revoke all on public.generation_jobs from anon, authenticated;
grant select on public.generation_jobs to authenticated;
grant all on public.generation_jobs to service_role;
