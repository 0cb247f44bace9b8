-- Patch one node's `data` after a single pass over the canvas. The row is locked first, so the node's
-- position and data read under the lock are those of the newest version (a writer that waited re-reads
-- the row), and the UPDATE that follows cannot write back a stale copy of other nodes. The lock is the
-- one an UPDATE takes (FOR NO KEY UPDATE): FOR UPDATE would also wait for the key-share locks that
-- inserting a job takes on its project, and two submits on one canvas would deadlock.
-- The previous form searched the array twice and decompressed `content` three times; this one searches
-- once and decompresses twice, 10 to 20% faster on large canvases (docs/profiles/README.md).

create or replace function public.patch_node_data(
  p_project_id uuid,
  p_node_id text,
  p_set jsonb,
  p_remove text[] default '{}'
) returns boolean
language plpgsql
as $$
declare
  v_index integer;
  v_data jsonb;
begin
  select e.ord - 1, coalesce(e.elem -> 'data', '{}'::jsonb)
    into v_index, v_data
    from public.projects as p
    cross join lateral jsonb_array_elements(p.content -> 'nodes') with ordinality as e (elem, ord)
    where p.id = p_project_id
      and e.elem -> 'id' = to_jsonb(p_node_id)
    limit 1
    for no key update of p;
  if v_index is null then
    return false;
  end if;
  update public.projects
  set content = jsonb_set(content, array['nodes', v_index::text, 'data'], (v_data - p_remove) || p_set)
  where id = p_project_id;
  return true;
end;
$$;
