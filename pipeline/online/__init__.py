"""Importing an online export: the file an online survey tool (ODK Central, KoboToolbox,
LimeSurvey, or any other with a mapping file) exports as CSV or XLSX, read onto the paper form's
questions.

It owns reading the file (table.py), telling which tool made it and how that tool names its
columns (conventions.py), a person's column mapping file (mapping.py), turning the rows into
answers keyed by question name and reporting every value it did not recode (read.py), and
storing them in a workspace (workspace_import.py). What `papertwin reconcile` prints is
pipeline/cli/present.py's.
Building the unified dataset from what is stored is pipeline/dataset/'s.
"""

from pipeline.online.read import (
    ChoiceDifference,
    ImportOptions,
    InvalidValue,
    OnlineImport,
    SplitDisagreement,
    read_online_export,
)
from pipeline.online.workspace_import import import_online_export

__all__ = [
    "ChoiceDifference",
    "ImportOptions",
    "InvalidValue",
    "OnlineImport",
    "SplitDisagreement",
    "import_online_export",
    "read_online_export",
]
