"""ShelfReady shared core."""
