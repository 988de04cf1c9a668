"""The unified dataset: papertwin's own output, one row per response, paper and online alike.

It owns building the dataset from the store (build.py), resolving people who answered on both
channels (dualchannel.py), naming paper answers the respondent's own route skips (offroute.py),
describing it (codebook.py: the codebook and the per-question summary), writing it as CSV,
Parquet or XLSX (write.py), and the step `papertwin export` and the flows run, which does all of
these in turn (export.py). Here "export" only ever means writing
this dataset; the online tool's file is pipeline/online/'s.
"""

from pipeline.dataset.build import (
    Dataset,
    build_dataset,
    combine_channels,
    is_further_response,
    load_dataset,
    split_multiple,
    with_contacts,
)
from pipeline.dataset.codebook import codebook, summary
from pipeline.dataset.dualchannel import (
    POLICIES,
    DualChannel,
    DualPair,
    apply_policy,
    find_pairs,
    read_match_file,
)
from pipeline.dataset.export import ExportOptions, ExportSummary, export_dataset
from pipeline.dataset.offroute import ROUTE_MODES, asked_table, mark_off_route, off_route
from pipeline.dataset.write import FORMATS, DatasetFormat, write_dataset

__all__ = [
    "FORMATS",
    "POLICIES",
    "ROUTE_MODES",
    "Dataset",
    "DatasetFormat",
    "DualChannel",
    "DualPair",
    "ExportOptions",
    "ExportSummary",
    "apply_policy",
    "asked_table",
    "build_dataset",
    "codebook",
    "combine_channels",
    "export_dataset",
    "find_pairs",
    "is_further_response",
    "load_dataset",
    "mark_off_route",
    "off_route",
    "read_match_file",
    "split_multiple",
    "summary",
    "with_contacts",
    "write_dataset",
]
