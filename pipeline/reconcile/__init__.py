"""Reconciliation: the online export and the paper answers in one dataset."""
