"""The project's own simulator of filled-in, scanned postal returns, with ground truth."""
