-- The API roles get table privileges by default; RLS restricts rows but not TRUNCATE, which would let a
-- signed-in user empty every project. Clients only ever select, insert, update and delete their own rows.
revoke truncate, references, trigger on public.projects from anon, authenticated;
revoke truncate, references, trigger on public.generation_jobs from anon, authenticated;
