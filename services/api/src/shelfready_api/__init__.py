"""ShelfReady HTTP API: start workflows from a photo and read their state."""
