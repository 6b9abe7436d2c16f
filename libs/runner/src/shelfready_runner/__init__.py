"""What runs ShelfReady: the operator CLI, the worker pool, its health endpoint, diagnose."""
