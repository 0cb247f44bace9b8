-- Patch one node's `data` in a single UPDATE. The node's position in the array is found from the
-- row's own content inside the statement, so a writer that waited on the row lock re-evaluates it
-- against the newest version (EvalPlanQual) and never writes back a stale copy of other nodes.

create function public.patch_node_data(
  p_project_id uuid,
  p_node_id text,
  p_set jsonb,
  p_remove text[] default '{}'
) returns boolean
language plpgsql
as $$
begin
  update public.projects as p
  set content = (
    select jsonb_set(
      p.content,
      array['nodes', (e.ord - 1)::text, 'data'],
      (coalesce(e.elem -> 'data', '{}'::jsonb) - p_remove) || p_set
    )
    from jsonb_array_elements(p.content -> 'nodes') with ordinality as e (elem, ord)
    where e.elem ->> 'id' = p_node_id
    limit 1
  )
  where p.id = p_project_id
    and p.content -> 'nodes' @> jsonb_build_array(jsonb_build_object('id', p_node_id));
  return found;
end;
$$;

comment on function public.patch_node_data(uuid, text, jsonb, text[]) is
  'Merge p_set into the data of node p_node_id and drop the keys p_remove, atomically; false if the node is absent.';

revoke execute on function public.patch_node_data(uuid, text, jsonb, text[]) from public, anon, authenticated;
grant execute on function public.patch_node_data(uuid, text, jsonb, text[]) to service_role;
