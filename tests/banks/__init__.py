"""Banks of deliberately broken implementations, one module per task."""
