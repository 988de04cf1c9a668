"""The project's own simulator of filled-in, scanned postal returns, with ground truth.

It owns making returns to test the reader on: what a respondent answers (answers.py, values.py),
the pen marks on the printed pages (pen.py), what scanners and the post do to them (`damage`,
scanner.py, `degrade`), the batch and its truth file (`returns`), and comparing a dataset with
that truth (`truth`). It serves `papertwin simulate`, the demo and the tests; nothing that reads
real returns uses it.
"""

__all__ = ["answers", "damage", "degrade", "returns", "truth"]
