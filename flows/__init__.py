"""Prefect flows: each task is one call into `pipeline`."""
