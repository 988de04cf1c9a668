"""The dataset in the online export's own column names: `papertwin export --columns online`.

An analyst who already has scripts for the online tool's export expects its columns: Kobo's
`travel/bus_freq`, ODK Central's `travel-bus_freq`, the multiple choice's `travel/routes/bus`, and
the tool's metadata columns (start, end, deviceid, _id, SubmitterName, ...). The import records
how the export named them (records.OnlineNaming); here the dataset built under question names is
renamed, as the export's last step, so that everything before it works on question names alone.
A question the online export lacks (asked on paper only) keeps its name; paper rows fill the same
columns, and are blank in the metadata columns, which no paper return has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from pipeline.dataset.build import PROVENANCE_COLUMNS
from pipeline.errors import UsageError
from pipeline.online.conventions import metadata_meaning
from pipeline.records import OnlineNaming

COLUMN_NAMINGS = ("online", "short")  # `papertwin export --columns`


@dataclass(frozen=True)
class NamedDataset:
    """The renamed dataset, and each renamed column's name in the short dataset, so that the
    codebook can give both (a split choice's column maps to `question/choice`)."""

    frame: pd.DataFrame
    short_names: Mapping[str, str] = field(default_factory=dict)  # dataset column -> short name
    # The metadata columns added, in order: (column, what it holds and which tool writes it).
    metadata: tuple[tuple[str, str], ...] = ()

    def column_of(self) -> dict[str, str]:
        """Short name (a question's) -> its column in this dataset, for the renamed ones."""
        return {short: column for column, short in self.short_names.items()}


def check_naming(columns: str) -> str:
    """The --columns value, refused unless it is one papertwin writes."""
    if columns not in COLUMN_NAMINGS:
        raise UsageError(f"--columns {columns}: choose one of {', '.join(COLUMN_NAMINGS)}")
    return columns


def online_names(frame: pd.DataFrame, naming: OnlineNaming,
                 metadata: pd.DataFrame | None = None) -> NamedDataset:
    """The dataset's answer columns named as the online export named them, and the tool's
    metadata columns (`metadata`: response_id, then a column each) added after the questions,
    before the provenance columns; blank but on the online rows that hold them.

    A `question/choice` column (build.split_multiple) takes the export's own 0/1 column, else
    the question's export column and `/choice`, as ODK Central and Kobo write them. A name that
    another column already has is not taken: that column keeps its short name.
    """
    targets: dict[str, str] = {}
    taken = set(frame.columns)
    for column in frame.columns:
        target = _online_name(str(column), naming)
        if target is None or target == column or target in taken:
            continue
        targets[str(column)] = target
        taken.add(target)
    out = frame.rename(columns=targets)
    added = tuple(c for c in naming.metadata if c not in out.columns)
    if metadata is not None and added:
        out = _with_metadata(out, metadata, added)
    else:
        added = ()
    return NamedDataset(out, {target: short for short, target in targets.items()},
                        tuple((c, metadata_meaning(naming.convention, c)) for c in added))


def _online_name(column: str, naming: OnlineNaming) -> str | None:
    if column in naming.columns:
        return naming.columns[column]
    if column in naming.choice_columns:
        return naming.choice_columns[column]
    question, slash, choice = column.partition("/")
    if slash and question in naming.columns:
        return f"{naming.columns[question]}/{choice}"
    return None


def _with_metadata(frame: pd.DataFrame, metadata: pd.DataFrame,
                   columns: tuple[str, ...]) -> pd.DataFrame:
    """The metadata columns inserted before the first provenance column (at the end if none)."""
    by_id = metadata.drop_duplicates("response_id").set_index("response_id")
    values = (by_id.reindex(columns=list(columns)).reindex(frame["response_id"])
              .fillna("").astype(str))
    values.index = frame.index
    values.loc[(frame["channel"] != "online").to_numpy()] = ""
    at = next((i for i, c in enumerate(frame.columns) if c in PROVENANCE_COLUMNS),
              len(frame.columns))
    return pd.concat([frame.iloc[:, :at], values, frame.iloc[:, at:]], axis=1)

