"""Benchmarks: `python -m bench` (or `make bench`).

Memory of each worker service at its configured concurrency on 24-megapixel photos, measured
as a container would see it, and the cost of decoding such a photo in full or in draft mode.
Needs PostgreSQL and Redis on localhost (see bench/stack.py); photos are generated, never stored.
"""
