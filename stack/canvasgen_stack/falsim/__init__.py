"""A local, fal.ai-compatible queue that renders real media and delivers signed webhooks.

It plays the provider for the canvas backend in local runs and tests: the fal queue REST API
(submit, status, result, cancel), ED25519-signed webhooks with retries, a JWKS, and media served
with Range support. Start it with ``python -m canvasgen_stack.falsim [--host] [--port] [--data-dir]``.

Fault tags
----------
A prompt may carry fault tags that change how that one job behaves; tags are removed from the
text drawn on the media. Syntax (parsed strictly; any ``[sim:`` that does not open a valid tag
makes the submit answer 422 with ``loc: ["body", "prompt"]``)::

    tag   = "[sim:" item *( [spaces] "," [spaces] item ) "]"
    item  = flag | name "=" value
    flag  = model_error | null_payload | drop | bad_signature | never_complete | forget | ignore_cancel
    name  = duplicate | delay | queued | stale_timestamp | slow_media | large_media | redirect | submit_status
            | submit_delay

Values contain no whitespace, commas or unbalanced brackets (``http://[::1]:8000/x`` is fine).
Names are lowercase; a fault may appear once per prompt (across all its tags).

=====================  =======================================================================
``model_error``        the model fails: status COMPLETED with ``error``, result 422, ERROR webhook
``null_payload``       webhook ``payload: null`` plus ``payload_error``; the result still works
``duplicate=N``        deliver the webhook N times in all (N >= 1)
``drop``               never deliver the webhook (status and result still work)
``delay=S``            deliver S seconds (a decimal) after completion
``queued=S``           stay IN_QUEUE for S seconds (a decimal) before processing starts
``bad_signature``      a well-formed signature that does not verify
``stale_timestamp=S``  sign with a timestamp S whole seconds in the past
``slow_media=B``       serve media at B bytes per second
``large_media=B``      serve media B bytes long: the real file, then zero padding, streamed
``redirect=URL``       media answers 302 to URL (http/https on a loopback host only)
``submit_status=C``    the submit answers C (400-599) with a fal-like error body; no job
``submit_delay=S``     the job is accepted at once but the submit answers only S seconds later
``never_complete``     the job stays IN_PROGRESS forever (cancel still works)
``forget``             the job is unknown (404) right after submit and never delivers
``ignore_cancel``      cancel answers 202 but the job completes and delivers anyway
=====================  =======================================================================

Byte counts (``slow_media``, ``large_media``) accept a binary suffix: ``K``, ``M`` or ``G``.
Example: ``"a cat on a sofa [sim:duplicate=3,delay=2]"``.

The same switches can be set for every new job with ``PUT /_sim/faults`` (a JSON object of the
names above; booleans for flags). A job's tags override the global switches field by field.
"""
