-- Recovery of jobs that never heard back, progress while queued, and safe saves of whole canvases.

-- The version at the last client save. A save based on an older version is still safe when every write
-- since its base was a server-owned node patch (version moved, edited_version did not).
alter table public.projects add column edited_version bigint not null default 1;

alter table public.generation_jobs
  add column queue_position integer,
  -- When a reconciler last claimed the job, so that two running at once do not check it twice.
  add column checked_at timestamptz;
