"""Every tunable default in one place, each with the reason it has its value."""

from __future__ import annotations

# Queue names, job time limits, retry intervals and progress checkpoints belong to the stages
# that own them: each declares its `Stage` (shelfready_core.stages).

# A stage that has not moved for this long with no live job is considered stuck. A running
# stage renews its workflow's updated_at every third of this (its lease), so a job lost with
# Redis is found after at most this + one sweep (30 + 10 s: moving again within a minute),
# while a job still running somewhere is never enqueued a second time.
STUCK_AFTER_SECONDS = 30
# How often a worker looks for stuck workflows (one worker at a time, via a Redis lock).
RECONCILE_INTERVAL_SECONDS = 10

# An outage (database, Redis or storage away, a key rejected) defers the job after 5 s,
# doubling to at most 60 s, without spending its retries; a workflow waits at most the budget.
OUTAGE_FIRST_DELAY_SECONDS = 5
OUTAGE_MAX_DELAY_SECONDS = 60
OUTAGE_BUDGET_SECONDS = 30 * 60
# How long a tripped circuit breaker refuses calls before one trial call may test the API.
BREAKER_OPEN_SECONDS = 60

# Image input limits: phone photos are 12-48 MP; anything above is a decompression bomb.
MAX_DOWNLOAD_BYTES = 25 * 1024 * 1024
# One deadline for a whole photo download, redirects included; a trickling server cannot hold
# a recognition slot longer than this.
FETCH_TIMEOUT_SECONDS = 15.0
FETCH_MAX_REDIRECTS = 5
# What one decoded photo may take in a work-horse (width x height x bands). Five recognition
# work-horses share a 512 MB budget; JPEGs are draft-decoded far below this, other formats
# (PNG, WebP, HEIC, AVIF...) decode at full size. 96 MiB is 33 MP RGB or 25 MP RGBA: an
# iPhone's 24 MP HEIC fits, a 48 MP one or the 7000x7000 PNG (140 MiB) does not.
MAX_DECODED_PHOTO_BYTES = 96 * 1024 * 1024

# API protection: submissions per API key per minute, and how deep the first stage's queue may
# grow before new submissions are asked to come back later.
RATE_LIMIT_PER_MINUTE = 60
MAX_INTAKE_QUEUE = 500
MAX_IMAGE_PIXELS = 50_000_000
MIN_IMAGE_SIDE = 200

# Finished job results are tiny; keep them a day for `shelfready queues` and debugging.
RESULT_TTL_SECONDS = 24 * 3600
FAILED_TTL_SECONDS = 7 * 24 * 3600
