"""Read models built from Kyoso's events, tracked exactly once and rebuildable from zero."""
