"""Temporal activities: thin wrappers, with injected dependencies, around playparse functions."""
