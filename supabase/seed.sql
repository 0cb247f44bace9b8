-- Two demo users, each with one canvas of video and image nodes. Safe to load again.

insert into auth.users (id, email, raw_user_meta_data)
values
  ('a11ce000-0000-4000-8000-000000000001', 'alice@example.com', '{"name": "Alice"}'),
  ('b0b00000-0000-4000-8000-000000000002', 'bob@example.com', '{"name": "Bob"}')
on conflict (id) do nothing;

insert into public.projects (id, user_id, name, content)
values
  (
    'a11ce000-0000-4000-8000-0000000000a1',
    'a11ce000-0000-4000-8000-000000000001',
    'Alice''s storyboard',
    '{
      "nodes": [
        {"id": "prompt-1", "type": "text", "position": {"x": 0, "y": 0}, "origin": [0, 0.5],
         "data": {"text": "A lighthouse at dawn, waves rolling in"}},
        {"id": "video-1", "type": "video", "position": {"x": 400, "y": 0}, "origin": [0, 0.5],
         "data": {"instructions": "Slow dolly towards the lighthouse", "model": "kling-v2.5-turbo-pro",
                  "duration": 5, "aspectRatio": "16:9"}},
        {"id": "image-1", "type": "image", "position": {"x": 400, "y": 300}, "origin": [0, 0.5],
         "data": {"instructions": "Poster of the lighthouse, flat colours", "model": "flux-dev"}},
        {"id": "video-2", "type": "video", "position": {"x": 800, "y": 0}, "origin": [0, 0.5],
         "data": {"instructions": "Seagulls circling the lamp", "model": "kling-v2.5-turbo-pro",
                  "duration": 10, "aspectRatio": "9:16"}}
      ],
      "edges": [
        {"id": "e-prompt-video", "source": "prompt-1", "target": "video-1", "type": "animated"},
        {"id": "e-prompt-image", "source": "prompt-1", "target": "image-1", "type": "animated"}
      ],
      "viewport": {"x": 0, "y": 0, "zoom": 1}
    }'::jsonb
  ),
  (
    'b0b00000-0000-4000-8000-0000000000b1',
    'b0b00000-0000-4000-8000-000000000002',
    'Bob''s moodboard',
    '{
      "nodes": [
        {"id": "image-1", "type": "image", "position": {"x": 0, "y": 0}, "origin": [0, 0.5],
         "data": {"instructions": "A red bicycle against a white wall", "model": "flux-dev"}},
        {"id": "video-1", "type": "video", "position": {"x": 400, "y": 0}, "origin": [0, 0.5],
         "data": {"instructions": "The bicycle rolls out of frame", "model": "kling-v2.5-turbo-pro",
                  "duration": 5, "aspectRatio": "1:1"}}
      ],
      "edges": [],
      "viewport": {"x": 0, "y": 0, "zoom": 1}
    }'::jsonb
  )
on conflict (id) do nothing;
