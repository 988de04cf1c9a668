"""Reading an online export into rows keyed by question name, as DESIGN.md sets out.

Each survey tool's convention (conventions.py) says how its online export names the questions'
columns; a mapping file (mapping.py) says it for any other online export. Values are kept as the
online survey codes them: anything that is not one of a question's choices is reported, never
silently recoded, and the only recoding done is what a mapping file or an explicit option asks.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import InputFileError, UsageError
from pipeline.model import Question, Questionnaire
from pipeline.online.conventions import (
    CONVENTIONS,
    GENERIC,
    KOBO,
    LIMESURVEY,
    ODK,
    Convention,
    convention_named,
    detect,
    is_metadata,
    refuse_repeat_file,
)
from pipeline.online.mapping import ColumnMapping, read_mapping
from pipeline.online.repeats import RepeatRead, Widened, repeat_levels, widen
from pipeline.online.table import Table, read_beside, read_tables
from pipeline.records import OnlineNaming, OnlineRow

# Kept for callers of papertwin 0.1: the metadata names the generic convention tries.
RESPONSE_ID_COLUMNS = GENERIC.id_columns
SUBMITTED_COLUMNS = GENERIC.submitted_columns
REFERENCE_COLUMNS = GENERIC.reference_columns

# How a split multiple-choice column says "ticked" and "not ticked" (Kobo 1/0, LimeSurvey Y).
TICKED = frozenset({"1", "1.0", "true", "True", "TRUE", "Y", "y"})
UNTICKED = frozenset({"", "0", "0.0", "false", "False", "FALSE", "N", "n"})
LIMESURVEY_SUBQUESTION = re.compile(r"^(?P<code>[^\[\]]+)\[(?P<sub>[^\[\]]+)\]$")


@dataclass(frozen=True)
class InvalidValue:
    row: int  # 1-based data row
    question: str
    value: str


@dataclass(frozen=True)
class ChoiceDifference:
    """Values the online survey allowed for a question that its paper form does not offer."""

    question: str
    values: tuple[str, ...]
    rows: int  # how many responses hold one of them


@dataclass(frozen=True)
class SplitDisagreement:
    """A multiple choice whose combined column and 0/1 columns say different things."""

    row: int
    question: str
    combined: str
    split: str


@dataclass(frozen=True)
class OnlineImport:
    rows: tuple[OnlineRow, ...]
    matched: tuple[str, ...]  # question columns found
    missing: tuple[str, ...]  # questions with no column in the online export (paper only)
    extra: tuple[str, ...]  # columns that are neither questions nor known metadata (online-only)
    invalid: tuple[InvalidValue, ...]
    id_column: str
    convention: str = "generic"  # name of the convention used (CONVENTIONS)
    detected: bool = False  # True when the convention was detected, not named
    submitted_column: str = ""
    reference_column: str = ""
    metadata: tuple[str, ...] = ()  # the tool's own columns, recognised as no question
    columns: tuple[tuple[str, str], ...] = ()  # (question, export column or columns) used
    choice_differences: tuple[ChoiceDifference, ...] = ()
    disagreements: tuple[SplitDisagreement, ...] = ()
    warnings: tuple[str, ...] = ()
    mapping: str = ""  # the mapping file used, if any
    # Questions of the online form that the paper form lacks, kept in the rows' answers under
    # these names (a tool's online export only: its other columns are metadata or fields).
    online_only: tuple[tuple[str, str], ...] = ()  # (name in the answers, export column)
    # The export's own column names and the metadata columns kept with each row (rows' metadata).
    naming: OnlineNaming = field(default_factory=OnlineNaming)
    # Repeat groups read from their own tables (pipeline/online/repeats.py), answers kept
    # under instance names (`member[2]/age`).
    repeats: tuple[RepeatRead, ...] = ()

    @property
    def convention_title(self) -> str:
        """The tool the export is taken to come from, as a person reads it ("KoboToolbox")."""
        return CONVENTIONS[self.convention].title


@dataclass(frozen=True)
class ImportOptions:
    """What the person said about an online export: its convention, a mapping file, labels to
    names (`papertwin reconcile`'s options)."""

    convention: str = "auto"
    mapping: Path | None = None
    reference_column: str | None = None
    labels_to_names: bool = False


def read_online_export(path: Path, questionnaire: Questionnaire, *,
                       convention: str = "auto", mapping: Path | None = None,
                       reference_column: str | None = None,
                       labels_to_names: bool = False) -> OnlineImport:
    """The online export's rows in the questionnaire's question names and the online survey's
    codes, with everything noticed on the way (columns matched, missing and extra, values that
    are no choice) for the person to act on: nothing is dropped or recoded silently.

    convention is auto (detect), odk, kobo, limesurvey or generic; mapping a YAML or CSV column
    mapping file; reference_column the column that holds the respondent reference; with
    labels_to_names a Kobo export made with labels is mapped back to names instead of refused.
    """
    options = ImportOptions(convention, mapping, reference_column, labels_to_names)
    named = convention_named(options.convention)
    column_mapping = read_mapping(options.mapping, questionnaire) if options.mapping else None
    table, others = read_tables(path)
    refuse_repeat_file(path, table)
    chosen = named or detect(path, table, column_mapping is not None)
    widened = _with_repeats(path, table, others, questionnaire, chosen)
    return _Import(path, widened, questionnaire, chosen, named is None, column_mapping,
                   options).run()


def _with_repeats(path: Path, table: Table, others: tuple[Table, ...],
                  questionnaire: Questionnaire, convention: Convention) -> Widened:
    """The main table with its repeat tables' answers as instance-named columns, for the
    tools whose exports key repeat tables to their submissions (ODK Central, KoboToolbox)."""
    levels = repeat_levels(questionnaire)
    if convention not in (ODK, KOBO):
        note = (f"sheets {', '.join(t.name for t in others)} not imported: only the first "
                "sheet holds one row per submission (the others are repeat groups, which "
                f"papertwin reads from {ODK.title} and {KOBO.title} exports)")
        return Widened(table, frozenset(), (), (note,) if others else ())
    if convention is ODK and path.suffix.lower() == ".csv" and levels:
        names = [f"{path.stem}-{level.name}.csv" for level in levels]
        others = (*others, *read_beside(path, names))
    if not levels and not others:
        return Widened(table, frozenset(), (), ())
    return widen(path, table, others, questionnaire, convention)


class _Import:
    """One online export being read: the columns' meaning first, then every row."""

    def __init__(self, path: Path, widened: Widened, questionnaire: Questionnaire,
                 convention: Convention, detected: bool, mapping: ColumnMapping | None,
                 options: ImportOptions) -> None:
        self.path = path
        self.table = widened.table
        self.repeat_columns = widened.columns  # instance-named, from the repeat tables
        self.repeats = widened.read
        self.repeat_names = widened.export_names  # `member[*]/age` -> the repeat table's column
        self.questionnaire = questionnaire
        self.convention = convention
        self.detected = detected
        self.mapping = mapping or ColumnMapping()
        self.options = options
        self.names = [q.name for q in questionnaire.questions]
        self.warnings: list[str] = list(widened.warnings)

    # -- metadata columns ----------------------------------------------------------------------

    def _role(self, role: str, candidates: tuple[str, ...], given: str | None) -> str | None:
        columns = self.table.columns
        if given is not None:
            if given not in columns:
                raise UsageError(f"online export {self.path} has no column '{given}' to read the "
                                 f"{role.replace('_', ' ')} from: check the column name")
            return given
        from_mapping = self.mapping.role_column(role)
        if from_mapping is not None:
            if from_mapping not in columns:
                raise InputFileError(
                    f"mapping file {self.mapping.path} names column '{from_mapping}' as "
                    f"{role}, but online export {self.path} has no such column")
            return from_mapping
        return next((c for c in candidates if c in columns), None)

    # -- question columns ----------------------------------------------------------------------

    def _question_for(self, code: str) -> Question | None:
        """The question a column's path (or LimeSurvey code) names, when only one fits."""
        if code in self.names:
            return self.questionnaire.question(code)
        sep = self.convention.group_separator
        if sep and sep in code:
            last = code.rsplit(sep, 1)[1]
            if last in self.names:
                return self.questionnaire.question(last)
        if self.convention is LIMESURVEY:
            # LimeSurvey codes are letters and digits only: visit_frequency is visitfrequency.
            key = code.replace("_", "").lower()
            fits = [n for n in self.names if n.replace("_", "").lower() == key]
            if len(fits) == 1:
                return self.questionnaire.question(fits[0])
        return None

    def _split_of(self, column: str) -> tuple[Question, str] | None:
        """(multiple-choice question, choice code) of a one-column-per-choice column."""
        pairs: list[tuple[str, str]]
        if self.convention is LIMESURVEY:
            found = LIMESURVEY_SUBQUESTION.match(column)
            pairs = [(found["code"], found["sub"])] if found else [
                (column[:i], column[i + 1:]) for i, ch in enumerate(column) if ch == "_"]
        elif "/" in column:
            head, sub = column.rsplit("/", 1)
            pairs = [(head, sub)]
        else:
            return None
        for code, sub in pairs:
            question = self._question_for(code)
            if question is None or question.type != "select_multiple" or not sub:
                continue
            if sub in self.names and sub not in question.choice_names():
                continue  # a question inside a group that shares the question's name
            return question, sub
        return None

    def _label_question(self, column: str) -> Question | None:
        """The question whose printed label is this column's (last) header text."""
        sep = self.convention.group_separator
        text = column.rsplit(sep, 1)[-1] if sep else column
        fits = [q for q in self.questionnaire.questions
                if any(t == text for _, t in q.label.texts)]
        return fits[0] if len(fits) == 1 else None

    def _resolve_columns(self, roles: set[str]) -> None:
        self.single: dict[str, str] = {}  # question -> its column
        self.split: dict[str, list[tuple[str, str]]] = defaultdict(list)  # q -> (column, code)
        self.metadata: list[str] = []
        self.extra: list[str] = []
        self.label_columns: list[tuple[str, str]] = []  # (column, question) named by label
        claims: dict[str, list[tuple[str, bool]]] = defaultdict(list)  # q -> (column, exact)
        for column in self.table.columns:
            if column in roles:
                continue
            if column in self.repeat_columns:
                self._repeat_column(column, claims)
                continue
            target = self.mapping.columns.get(column)
            if target is not None:
                claims[target].append((column, True))
                continue
            if column in self.names:
                claims[column].append((column, True))
                continue
            if is_metadata(self.convention, column):
                self.metadata.append(column)
                continue
            split = self._split_of(column)
            if split is not None:
                self.split[split[0].name].append((column, split[1]))
                continue
            question = self._question_for(column)
            if question is not None:
                claims[question.name].append((column, False))
                continue
            labelled = self._label_question(column) if self.convention is KOBO else None
            if labelled is None and self.convention is KOBO and "/" in column:
                head, choice_label = column.rsplit("/", 1)
                parent = self._label_question(head)
                if parent is not None and parent.type == "select_multiple":
                    self.label_columns.append((column, parent.name))
                    if self.options.labels_to_names:
                        code = _name_of_label(parent, choice_label) or choice_label
                        self.split[parent.name].append((column, code))
                        continue
            if labelled is not None:
                self.label_columns.append((column, labelled.name))
                if self.options.labels_to_names:
                    claims[labelled.name].append((column, True))
                    continue
            self.extra.append(column)
        for name, found in claims.items():
            exact = [c for c, is_exact in found if is_exact]
            if len(exact) == 1:
                self.single[name] = exact[0]
                self.extra.extend(c for c, is_exact in found if not is_exact)
            elif len(found) == 1:
                self.single[name] = found[0][0]
            else:
                columns = ", ".join(c for c, _ in found)
                self.warnings.append(f"columns {columns} could each be question {name}: none "
                                     "imported; name one in a mapping file")
                self.extra.extend(c for c, _ in found)
        self.extra.sort(key=self.table.columns.index)
        self.online_only = self._online_only(claims)

    def _repeat_column(self, column: str, claims: dict[str, list[tuple[str, bool]]]) -> None:
        """An instance-named column from a repeat table: a printed copy's question, one of its
        multiple choice's 0/1 columns, or (a copy beyond the printed ones, a question asked
        online only) kept under its own name."""
        if column in self.names:
            claims[column].append((column, True))
            return
        head, _, choice = column.rpartition("/")
        if head in self.names and self.questionnaire.question(head).type == "select_multiple":
            self.split[head].append((column, choice))
            return
        self.extra.append(column)

    def _online_only(self, claims: dict[str, list[tuple[str, bool]]]) -> dict[str, str]:
        """Export column -> answer name of the online form's own questions (not a generic file).

        A tool writes only its metadata and the form's fields, so what is neither metadata nor a
        paper question is a question asked online only: its answers stay, as the issue's contract
        asks. A column no row answers, and the 0/1 columns of such a multiple choice, are left.
        """
        if self.convention is GENERIC or self.label_columns:
            return {}
        ambiguous = {c for found in claims.values() if len(found) > 1 for c, _ in found}
        sep = self.convention.group_separator
        kept: dict[str, str] = {}
        for column in self.extra:
            if column in ambiguous or not any(v.strip() for v in self.table.column(column)):
                continue
            if "/" in column and column.rsplit("/", 1)[0] in self.table.columns:
                continue
            if column in self.repeat_columns:
                kept[column] = column  # already the instance name
                continue
            name = column.rsplit(sep, 1)[-1] if sep else column
            if name in self.names or name in kept.values():
                name = column
            kept[column] = name
        return kept

    # -- the import ----------------------------------------------------------------------------

    def run(self) -> OnlineImport:
        conv = self.convention
        id_column = self._role("response_id", conv.id_columns, None)
        if id_column is None:
            raise InputFileError(
                f"online export {self.path} has no response id column "
                f"(one of {', '.join(conv.id_columns)} for the {conv.title}): add one so rows "
                "can be told apart, or name it in a mapping file (docs/online-imports.md)")
        submitted = self._role("submitted_at", conv.submitted_columns, None)
        reference = self._role("respondent_ref", conv.reference_columns,
                               self.options.reference_column)
        roles = {c for c in (id_column, submitted, reference) if c}
        self._resolve_columns(roles)
        if conv is KOBO:
            self._refuse_labels()
        matched = tuple(n for n in self.names if n in self.single or n in self.split)
        if not matched:
            raise InputFileError(
                f"online export {self.path} has none of the questionnaire's question columns "
                f"({', '.join(self.names)}) in the {conv.title} convention: is it the export of "
                f"survey '{self.questionnaire.id}'? Otherwise give --convention or --mapping")
        self._check_ids(id_column)
        kept = tuple(c for c in self.metadata if c not in conv.not_kept)
        rows, invalid, disagreements = self._rows(id_column, submitted, reference, kept)
        if conv is LIMESURVEY and submitted:
            unfinished = sum(1 for r in rows if not r.submitted_at)
            if unfinished:
                self.warnings.append(f"{unfinished} responses have no submitdate (not completed "
                                     "online); imported as they are")
        columns = tuple(
            (n, self.single[n] if n in self.single
             else " ".join(c for c, _ in self.split[n])) for n in matched)
        return OnlineImport(
            rows=tuple(rows), matched=matched,
            missing=tuple(n for n in self.names if n not in matched),
            extra=tuple(self.extra), invalid=tuple(invalid), id_column=id_column,
            convention=conv.name, detected=self.detected,
            submitted_column=submitted or "", reference_column=reference or "",
            metadata=tuple(self.metadata), columns=columns,
            choice_differences=_differences(self.off_choice, self.questionnaire),
            disagreements=tuple(disagreements), warnings=tuple(self.warnings),
            mapping=str(self.mapping.path) if self.mapping.path else "",
            online_only=tuple((n, c) for c, n in self.online_only.items()),
            naming=self._naming(matched, kept),
            repeats=self.repeats,
        )

    def _naming(self, matched: tuple[str, ...], kept: tuple[str, ...]) -> OnlineNaming:
        """The export's column of each answer, of each choice's 0/1 column, and the metadata
        columns kept: what the dataset is named by with `--columns online`. A multiple choice
        exported as 0/1 columns only is named by their common path (`visits/travel_mode`)."""
        columns = {n: self.single[n] for n in matched if n in self.single}
        if self.convention is not LIMESURVEY:
            for name, split in self.split.items():
                heads = {column.rsplit("/", 1)[0] for column, _ in split}
                if name not in columns and len(heads) == 1:
                    columns[name] = heads.pop()
        columns.update((name, column) for column, name in self.online_only.items())
        columns.update(self.repeat_names)
        return OnlineNaming(
            convention=self.convention.name, group_separator=self.convention.group_separator,
            columns=columns,
            choice_columns={f"{name}/{self._code(name, code)}": column
                            for name, split in self.split.items() for column, code in split},
            metadata=kept)

    def _check_ids(self, id_column: str) -> None:
        ids = self.table.column(id_column)
        duplicated = sorted(i for i, n in Counter(ids).items() if n > 1)
        if duplicated or "" in ids:
            raise InputFileError(
                f"online export {self.path}: response ids (column {id_column}) must be present "
                f"and unique (repeated: {', '.join(duplicated[:5]) or 'none'}; "
                f"empty: {ids.count('')} rows)")

    def _refuse_labels(self) -> None:
        """Kobo can export labels instead of names: say so rather than import them as codes."""
        headers = [f"column '{c}' is the label of question {q}" for c, q in self.label_columns]
        values: list[str] = []
        label_single = [(c, q) for c, q in self.label_columns
                        if self._label_question(c) is not None]  # not a 0/1 column
        for column, name in [*((c, n) for n, c in self.single.items()), *label_single]:
            question = self.questionnaire.question(name)
            if not question.is_choice:
                continue
            for value in self.table.column(column):
                value = value.strip()
                if value and value not in question.choice_names() and _is_label(question, value):
                    values.append(f"'{value}' in column '{column}' is a choice label of {name}")
                    break
        if not headers and not values:
            return
        seen = "; ".join([*headers[:1], *values[:1]])
        if self.options.labels_to_names:
            self.warnings.append(f"labels mapped to names, as asked ({seen})")
            return
        raise InputFileError(
            f"online export {self.path} holds labels, not names ({len(headers)} column headers "
            f"are question labels, {len(values)} columns hold choice labels: {seen}): it was "
            "exported from KoboToolbox with labels. Export it again choosing 'XML values and "
            "headers', or pass --labels-to-names to map labels to names")

    def _rows(self, id_column: str, submitted: str | None, reference: str | None,
              kept: tuple[str, ...] = (),
              ) -> tuple[list[OnlineRow], list[InvalidValue], list[SplitDisagreement]]:
        """Every row, decoded. A large online export has few distinct values per column, so each
        distinct value is decoded and checked once, not once per row."""
        self.off_choice: list[tuple[int, str, list[str]]] = []  # (row, question, values)
        index = {c: i for i, c in enumerate(self.table.columns)}
        plans = [
            (question, index[self.single[question.name]] if question.name in self.single
             else None,
             [(index[column], column, self._code(question.name, code))
              for column, code in self.split.get(question.name, [])])
            for question in self.questionnaire.questions
            if question.name in self.single or question.name in self.split
        ]
        decoded: dict[tuple[str, str], tuple[str, list[str]]] = {}
        extra = [(index[column], name) for column, name in self.online_only.items()]
        metadata = [(index[column], column) for column in kept]
        id_at = index[id_column]
        submitted_at = index[submitted] if submitted else None
        reference_at = index[reference] if reference else None
        rows: list[OnlineRow] = []
        invalid: list[InvalidValue] = []
        disagreements: list[SplitDisagreement] = []
        for number, record in enumerate(self.table.rows, start=1):
            answers: dict[str, str] = {}
            for question, single_at, split_columns in plans:
                name = question.name
                combined = None
                off: list[str] | None = None
                if single_at is not None:
                    cell = record[single_at].strip()
                    known = decoded.get((name, cell))
                    if known is None:
                        value = self._decode(question, cell)
                        known = decoded[(name, cell)] = (value, self._off_choice(question, value))
                    combined, off = known
                split = None
                if split_columns:
                    ticked = []
                    for at, column, code in split_columns:
                        cell = record[at].strip()
                        if cell in TICKED:
                            ticked.append(code)
                        elif cell not in UNTICKED:
                            invalid.append(InvalidValue(number, name, f"{column}={cell}"))
                    split = " ".join(ticked)
                if combined is not None and split is not None and \
                        set(combined.split()) != set(split.split()):
                    disagreements.append(SplitDisagreement(number, name, combined, split))
                value = combined if combined is not None else split or ""
                answers[name] = value
                if off is None:
                    off = self._off_choice(question, value)
                if off:
                    invalid.append(InvalidValue(number, name, value))
                    self.off_choice.append((number, name, off))
            for at, answer_name in extra:
                answers[answer_name] = record[at].strip()
            rows.append(OnlineRow(
                response_id=record[id_at].strip(),
                submitted_at=record[submitted_at].strip() if submitted_at is not None else "",
                respondent_ref=record[reference_at].strip() if reference_at is not None else "",
                answers=answers,
                source=self._source(number),
                metadata={column: record[at].strip() for at, column in metadata},
            ))
        return rows, invalid, disagreements

    def _source(self, number: int) -> str:
        """`FILE row N`, and the tool whose convention read it, `(kobo)`: the dataset keys its
        repeat tables the way that tool does (pipeline/dataset/repeats.py)."""
        tool = "" if self.convention is GENERIC else f" ({self.convention.name})"
        return f"{self.path.name} row {number}{tool}"

    @staticmethod
    def _off_choice(question: Question, value: str) -> list[str]:
        """The parts of a value that are none of the question's choices."""
        if not value or not question.choices:
            return []
        allowed = question.choice_names()
        tokens = value.split() if question.type == "select_multiple" else [value]
        return [t for t in tokens if t not in allowed]

    def _code(self, name: str, code: str) -> str:
        return self.mapping.values.get(name, {}).get(code, code)

    def _decode(self, question: Question, value: str) -> str:
        """The cell in the online survey's codes, recoded only as a mapping or option says."""
        if not value:
            return ""
        labels = self.options.labels_to_names and self.convention is KOBO
        if question.type == "select_multiple":
            if labels and value not in question.choice_names():
                tokens = _split_labels(question, value)
                if tokens is not None:
                    return " ".join(tokens)
            separator = self.mapping.multiple_separator
            parts = value.split() if separator == " " else \
                [p.strip() for p in value.split(separator) if p.strip()]
            return " ".join(self._code(question.name, p) for p in parts)
        if labels and question.is_choice and value not in question.choice_names():
            return _name_of_label(question, value) or value
        return self._code(question.name, value)


def _is_label(question: Question, value: str) -> bool:
    if _name_of_label(question, value) is not None:
        return True
    return question.type == "select_multiple" and _split_labels(question, value) is not None


def _name_of_label(question: Question, text: str) -> str | None:
    for choice in question.choices:
        if any(t == text for _, t in choice.label.texts):
            return choice.name
    return None


def _split_labels(question: Question, value: str) -> list[str] | None:
    """Names of the labels a multiple choice's cell lists, longest label first; None if not."""
    labels = sorted(((t, c.name) for c in question.choices for _, t in c.label.texts),
                    key=lambda item: -len(item[0]))
    rest, names = value.strip(), []
    while rest:
        hit = next(((t, n) for t, n in labels if rest.startswith(t)), None)
        if hit is None:
            return None
        names.append(hit[1])
        rest = rest[len(hit[0]):].lstrip(" ,;")
    return names


def _differences(off_choice: list[tuple[int, str, list[str]]],
                 questionnaire: Questionnaire) -> tuple[ChoiceDifference, ...]:
    values: dict[str, set[str]] = defaultdict(set)
    rows: dict[str, set[int]] = defaultdict(set)
    for row, name, tokens in off_choice:
        values[name].update(tokens)
        rows[name].add(row)
    return tuple(ChoiceDifference(q.name, tuple(sorted(values[q.name])), len(rows[q.name]))
                 for q in questionnaire.questions if values.get(q.name))
