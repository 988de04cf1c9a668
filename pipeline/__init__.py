"""papertwin: the paper twin of an online consultation survey."""

__version__ = "0.1.0"
