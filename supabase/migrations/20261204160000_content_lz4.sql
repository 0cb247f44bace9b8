-- Compress canvases with lz4 instead of pglz. Every node patch decompresses and recompresses the whole
-- `content` value; with lz4 a node patch took 0.42 to 0.55 of the time on canvases of 100 to 5,000 nodes
-- (docs/benchmarks.md, "node patch with pglz"), for 5% more stored bytes at 1,000 nodes and more.
-- Rows convert on their next write.
alter table public.projects alter column content set compression lz4;
