"""How each survey tool names its online export's columns, and which tool made a given one.

Every tool writes the answers under the question names but wraps them differently: ODK Central
joins group paths with '-', KoboToolbox with '/', LimeSurvey keeps bare question codes; each adds
metadata columns of its own. Those metadata columns are what tells the tools apart, so detection
only looks at them and refuses rather than guesses when they point to none or to several.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputFileError, UsageError
from pipeline.online.table import Table


@dataclass(frozen=True)
class Convention:
    name: str  # as given to --convention
    title: str  # as printed
    group_separator: str  # between group path components; "" when columns are bare codes
    id_columns: tuple[str, ...]  # response id: the first present
    submitted_columns: tuple[str, ...]
    reference_columns: tuple[str, ...]
    markers: tuple[str, ...]  # all present: the online export is this tool's
    metadata: frozenset[str]  # the tool's own columns, which are no question
    metadata_prefixes: tuple[str, ...] = ()
    # Metadata columns that say nothing of the response (a row's place in one export file, links
    # to the server's files, a value every row shares): recognised, never kept.
    not_kept: frozenset[str] = frozenset()


ODK = Convention(
    name="odk", title="ODK Central CSV", group_separator="-",
    id_columns=("KEY", "meta-instanceID"), submitted_columns=("SubmissionDate",),
    reference_columns=("respondent_ref",), markers=("SubmissionDate", "KEY"),
    metadata=frozenset({
        "start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber",
        "username", "email", "audit", "SubmitterID", "SubmitterName", "AttachmentsPresent",
        "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion",
        "instanceID",
    }),
    metadata_prefixes=("meta-",),
)
KOBO = Convention(
    name="kobo", title="KoboToolbox", group_separator="/",
    id_columns=("_uuid", "meta/instanceID", "_id"), submitted_columns=("_submission_time",),
    reference_columns=("respondent_ref",), markers=("_uuid", "_submission_time"),
    metadata=frozenset({"start", "end", "today", "deviceid", "subscriberid", "simserial",
                        "phonenumber", "username", "email", "audit", "__version__"}),
    metadata_prefixes=("_", "meta/", "formhub/"),
    not_kept=frozenset({"_index", "_attachments", "_geolocation", "formhub/uuid"}),
)
LIMESURVEY = Convention(
    name="limesurvey", title="LimeSurvey response CSV", group_separator="",
    id_columns=("id",), submitted_columns=("submitdate",),
    reference_columns=("respondent_ref", "token"), markers=("id", "submitdate"),
    metadata=frozenset({"lastpage", "startlanguage", "seed", "startdate", "datestamp", "ipaddr",
                        "refurl", "token", "interviewtime"}),
    metadata_prefixes=("groupTime",),  # page timings, when the export includes them
)
GENERIC = Convention(
    name="generic", title="generic export (columns named by question or by a mapping file)",
    group_separator="", id_columns=("response_id",), submitted_columns=("submitted_at",),
    reference_columns=("respondent_ref",), markers=("response_id",), metadata=frozenset(),
)
CONVENTIONS: dict[str, Convention] = {c.name: c for c in (ODK, KOBO, LIMESURVEY, GENERIC)}
CONVENTION_CHOICES = ("auto", *CONVENTIONS)

# Columns only the file of a repeat group has: one row per repeat, joined to its parent by key.
REPEAT_MARKERS = {"PARENT_KEY": "ODK Central", "_parent_index": "KoboToolbox",
                  "_submission__uuid": "KoboToolbox"}


# What each tool's metadata columns hold, for the codebook. XLSForm's metadata fields (start to
# audit) are named the same by every ODK-based tool; the rest are the tools' own.
METADATA_MEANINGS = {
    "start": "when the form was opened, by the device's clock",
    "end": "when the form was last saved, by the device's clock",
    "today": "the day the form was filled in",
    "deviceid": "the id of the device or web browser the form was filled in on",
    "subscriberid": "the subscriber id (IMSI) of the device's SIM card",
    "simserial": "the serial number of the device's SIM card",
    "phonenumber": "the device's phone number",
    "username": "the user name set on the device or in the web form",
    "email": "the e-mail address of the device's user",
    "audit": "the name of the form's audit log file",
    "instanceID": "the submission's own id",
    "instanceName": "the name the form gives the submission",
    "deprecatedID": "the id of the submission this one replaces (an edited submission)",
    "rootUuid": "the id of the submission's first version",
    "SubmitterID": "the id of the ODK Central user or public link that sent it",
    "SubmitterName": "the name of the ODK Central user or public link that sent it",
    "AttachmentsPresent": "how many of its attached files ODK Central holds",
    "AttachmentsExpected": "how many attached files it names",
    "Status": "whether ODK Central could decrypt it (an encrypted form)",
    "ReviewState": "its review state in ODK Central (hasIssues, edited, approved, rejected)",
    "DeviceID": "the device id ODK Central recorded with it",
    "Edits": "how many times it was edited in ODK Central",
    "FormVersion": "the version of the form it was made with",
    "_id": "KoboToolbox's number for it",
    "_uuid": "KoboToolbox's unique id for it",
    "_submission_time": "when KoboToolbox received it (UTC)",
    "_validation_status": "its validation status in KoboToolbox (approved, not approved, on hold)",
    "_notes": "notes a KoboToolbox user wrote on it",
    "_status": "how it reached KoboToolbox (submitted_via_web)",
    "_submitted_by": "the KoboToolbox account that sent it",
    "__version__": "the version of the deployed form it was made with",
    "_tags": "tags a KoboToolbox user gave it",
    "startdate": "when the respondent started",
    "datestamp": "when the response last changed",
    "lastpage": "the last page the respondent reached",
    "startlanguage": "the language the survey was started in",
    "seed": "the random seed that ordered its questions and answers",
    "token": "the participant's access token",
    "ipaddr": "the respondent's IP address",
    "refurl": "the web page the respondent came from",
    "interviewtime": "seconds spent on the whole survey",
    "groupTime": "seconds spent on one group of questions (the group's number follows)",
}
TOOLS = {"odk": "ODK Central", "kobo": "KoboToolbox", "limesurvey": "LimeSurvey"}


def metadata_meaning(convention: str, column: str) -> str:
    """What a metadata column of this convention's export holds, and which tool writes it."""
    tool = TOOLS.get(convention, "the online tool")
    key = column
    for prefix in ("meta-", "meta/", "groupTime"):
        if column.startswith(prefix) and column not in METADATA_MEANINGS:
            key = column.removeprefix(prefix) if prefix != "groupTime" else prefix
    meaning = METADATA_MEANINGS.get(key, "a column papertwin has no description of")
    return f"{meaning} (a column of {tool}'s export)"


def convention_named(name: str) -> Convention | None:
    """The convention of --convention NAME; None for auto."""
    if name == "auto":
        return None
    if name not in CONVENTIONS:
        raise UsageError(f"--convention {name}: choose one of {', '.join(CONVENTION_CHOICES)}")
    return CONVENTIONS[name]


def refuse_repeat_file(path: Path, table: Table) -> None:
    """A repeat group's own file holds no whole responses: say which file to give instead."""
    found = [c for c in REPEAT_MARKERS if c in table.columns]
    if found and not any(set(c.markers) <= set(table.columns) for c in (ODK, KOBO)):
        tool = REPEAT_MARKERS[found[0]]
        raise InputFileError(
            f"online export {path} is the file of a repeat group ({tool}: it has a "
            f"{found[0]} column and no submission columns): give the main export file, the one "
            "with one row per submission, and papertwin reads the repeat groups with it "
            "(ODK Central: the CSV zip, or the main CSV with FORMID-REPEAT.csv files beside it; "
            "KoboToolbox: the XLSX export, which holds each repeat group as a sheet; a Kobo CSV "
            "export cannot hold them)"
        )


def detect(path: Path, table: Table, has_mapping: bool) -> Convention:
    """The one convention whose metadata columns the online export has; refuses none or
    several rather than guess."""
    refuse_repeat_file(path, table)
    columns = set(table.columns)
    fits = [c for c in CONVENTIONS.values() if set(c.markers) <= columns]
    if len(fits) == 1:
        return fits[0]
    if not fits and has_mapping:
        return GENERIC
    seen = [c for c in table.columns
            if any(c in conv.markers or c in conv.id_columns or c in conv.submitted_columns
                   for conv in CONVENTIONS.values())]
    separator = {",": "','", ";": "';'", "\t": "tab", "": "(Excel sheet)"}[table.delimiter]
    expected = "; ".join(f"{c.title}: {' and '.join(c.markers)}" for c in CONVENTIONS.values())
    if fits:
        raise InputFileError(
            f"online export {path} fits more than one convention "
            f"({', '.join(c.name for c in fits)}): its metadata columns "
            f"{', '.join(seen)}, separator {separator}; name the one that made it with "
            f"--convention {'|'.join(CONVENTIONS)}"
        )
    raise InputFileError(
        f"online export {path} has no response id column of a known convention, so papertwin "
        f"cannot tell which tool made it (metadata columns seen: {', '.join(seen) or 'none'}; "
        f"separator {separator}; first columns: {', '.join(table.columns[:6])}). Expected "
        f"{expected}. Add a response_id column, or give --mapping FILE (docs/online-imports.md) "
        f"and --convention {'|'.join(CONVENTIONS)}"
    )


def is_metadata(convention: Convention, column: str) -> bool:
    """A column the tool adds of its own (submission time, device, status), not a question."""
    return column in convention.metadata or column.startswith(convention.metadata_prefixes)
