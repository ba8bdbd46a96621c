"""playparse package."""
