"""lossbench."""
