"""An online export's repeat tables read under the instance names paper uses.

Online, a repeat group (household members, visits) is a table of its own, each row keyed to its
parent row: KoboToolbox's XLSX gives each group a sheet whose rows carry `_index` and
`_parent_index` (the parent sheet's `_index`); ODK Central's CSV zip gives each group a file,
`FORMID-REPEAT.csv`, whose rows carry `KEY` and `PARENT_KEY` (the parent's `KEY`). Paper prints a
fixed number of copies and stores their answers under instance names, `member[2]/age`. So an
instance's answers become columns of its submission's row under the same names (k counting the
instances of one parent in file order, from 1), and the main import then reads them as any other
column: the store keeps online answers as name -> value and needs nothing new. Instances beyond
the printed copies are kept too, under the names the next copies would have had.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import InputFileError
from pipeline.model import Grid, Question, Questionnaire, Repeat, instance_path, repeat_paths
from pipeline.online.conventions import KOBO, ODK, Convention
from pipeline.online.table import Table

ODK_KEYS = ("PARENT_KEY", "KEY")
KOBO_KEYS = ("_index", "_parent_table_name", "_parent_index")
KOBO_SHEET_CHARS = 31  # an XLSX sheet name's limit: Kobo cuts a longer repeat name to 28 + "..."


@dataclass(frozen=True)
class RepeatLevel:
    """A repeat group of the questionnaire, as the template names it, and the repeat around it."""

    repeat: Repeat
    parent: str | None  # the enclosing repeat's name; None for a repeat of the form itself

    @property
    def name(self) -> str:
        return self.repeat.name


@dataclass(frozen=True)
class RepeatRead:
    """One online repeat table taken in: which group, from which sheet or file, how many rows."""

    repeat: str
    table: str
    instances: int


@dataclass(frozen=True)
class Widened:
    """The main table with the repeat instances' answers as columns of their submission's row."""

    table: Table
    columns: frozenset[str]  # the columns added, named by instance name
    read: tuple[RepeatRead, ...]
    warnings: tuple[str, ...]
    # `member[*]/age` (any copy) -> the repeat table's own column (`household/member/age`)
    export_names: dict[str, str] = field(default_factory=dict)


def repeat_levels(questionnaire: Questionnaire) -> tuple[RepeatLevel, ...]:
    """Every repeat group, each before the ones inside it."""
    return tuple(RepeatLevel(repeat, path[-2] if len(path) > 1 else None)
                 for path, repeat in repeat_paths(questionnaire.items))


def own_questions(repeat: Repeat) -> dict[str, Question]:
    """The questions one copy of the repeat asks at its own level (a grid's rows included, a
    nested repeat's left to its own table), by their names in the template."""
    found: dict[str, Question] = {}
    for item in repeat.items:
        if isinstance(item, Question):
            found[item.name] = item
        elif isinstance(item, Grid):
            found.update((row.name, row) for row in item.rows)
    return found


def widen(path: Path, main: Table, tables: Sequence[Table], questionnaire: Questionnaire,
          convention: Convention) -> Widened:
    """The main table with every repeat table's rows as instance-named columns of their
    submission's row. Tables that are no repeat group of the paper form are left, with a note;
    a row whose parent is not in the export is refused, naming the table and row."""
    levels = {level.name: level for level in repeat_levels(questionnaire)}
    warnings: list[str] = []
    matched: dict[str, Table] = {}
    for table in tables:
        level = _level_of(table, levels, main, convention)
        if level is None or level in matched:
            warnings.append(f"{_what(table, convention)} not imported: it is no repeat group of "
                            f"the paper form ({', '.join(levels) or 'which has none'})")
            continue
        matched[level] = table
    missing = [name for name in levels if name not in matched]
    if missing and convention in (ODK, KOBO):
        warnings.append(_missing_note(path, missing, convention))
    if not matched:
        return Widened(main, frozenset(), (), tuple(warnings))
    return _Widening(path, main, questionnaire, convention, levels, matched, warnings).run()


def _what(table: Table, convention: Convention) -> str:
    return f"sheet {table.name}" if convention is KOBO or not table.delimiter \
        else f"file {table.name}"


def _missing_note(path: Path, missing: list[str], convention: Convention) -> str:
    groups = ", ".join(missing)
    if convention is KOBO and path.suffix.lower() == ".csv":
        return (f"repeat groups {groups} not imported: a KoboToolbox CSV export holds the main "
                "table only; export XLSX, which holds each repeat group as a sheet")
    if convention is KOBO:
        return f"repeat groups {groups} not imported: the XLSX has no sheet for them"
    stem = path.stem
    return (f"repeat groups {groups} not imported: ODK Central writes them to "
            f"{', '.join(f'{stem}-{name}.csv' for name in missing)}; download the CSV zip, or "
            "put those files beside the main CSV")


def _level_of(table: Table, levels: dict[str, RepeatLevel], main: Table,
              convention: Convention) -> str | None:
    """The repeat group a sheet (Kobo: named by the group, cut to 31 characters) or a file
    (ODK Central: `FORMID-REPEAT.csv`, `~2` added to a name used twice) holds."""
    name = Path(table.name).name
    if convention is KOBO or not table.delimiter:
        fits = [n for n in levels if name == n or (
            len(n) > KOBO_SHEET_CHARS and name == n[:KOBO_SHEET_CHARS - 3] + "...")]
    else:
        stem = re.sub(r"~\d+$", "", name.removesuffix(Path(name).suffix))
        main_stem = Path(main.name).stem
        own = stem.removeprefix(f"{main_stem}-") if stem.startswith(f"{main_stem}-") else None
        fits = [own] if own in levels else [n for n in levels if stem.endswith(f"-{n}")]
    return fits[0] if len(fits) == 1 else None


class _Widening:
    """The repeat tables being joined to their submissions, parents before children."""

    def __init__(self, path: Path, main: Table, questionnaire: Questionnaire,
                 convention: Convention, levels: dict[str, RepeatLevel],
                 matched: dict[str, Table], warnings: list[str]) -> None:
        self.path = path
        self.main = main
        self.questionnaire = questionnaire
        self.kobo = convention is KOBO
        self.levels = levels
        self.matched = matched
        self.warnings = warnings
        self.values: list[dict[str, str]] = [{} for _ in main.rows]
        self.added: dict[str, None] = {}  # the columns added, in order
        # instance key -> (main row, instance prefix `member[2]/`), per table (Kobo: `_index`)
        self.instances: dict[str, dict[str, tuple[int, str]]] = {}
        self.within: dict[str, dict[str, None]] = {}  # repeat -> its table's names in a copy
        self.export_names: dict[str, str] = {}  # `member[*]/age` -> the table's column

    def run(self) -> Widened:
        self.instances[""] = self._main_keys()
        read: list[RepeatRead] = []
        for name, level in self.levels.items():
            table = self.matched.get(name)
            if table is None:
                continue
            if level.parent is not None and level.parent not in self.instances:
                self.warnings.append(f"{_what(table, KOBO if self.kobo else ODK)} not imported: "
                                     f"the table of {level.parent}, which holds its parents, "
                                     "is not in the export")
                continue
            read.append(RepeatRead(name, table.name, self._take(level, table)))
        columns = self._columns()
        rows = tuple((*row, *(values.get(c, "") for c in columns))
                     for row, values in zip(self.main.rows, self.values, strict=True))
        table = Table((*self.main.columns, *columns), rows, self.main.delimiter,
                      self.main.other_sheets, self.main.name)
        return Widened(table, frozenset(columns), tuple(read), tuple(self.warnings),
                       self.export_names)

    def _main_keys(self) -> dict[str, tuple[int, str]]:
        key = "_index" if self.kobo else "KEY"
        if key not in self.main.columns:
            raise InputFileError(
                f"online export {self.path}: its main table has no {key} column, which its repeat "
                f"tables' rows name their submission by: export it again with "
                f"{'the _index column' if self.kobo else 'KEY'}")
        return {value.strip(): (row, "") for row, value in enumerate(self.main.column(key))}

    def _take(self, level: RepeatLevel, table: Table) -> int:
        """Each row of the table as instance-named answers of its submission's row."""
        own_key, parent_key = ("_index", "_parent_index") if self.kobo else ("KEY", "PARENT_KEY")
        where = f"{self.path} ({table.name})"
        for needed in (parent_key, own_key):
            if needed not in table.columns:
                raise InputFileError(
                    f"online export {where}: the table of repeat group {level.name} has no "
                    f"{needed} column, which keys each row to its parent; export it again")
        parents = self.instances[level.parent or ""]
        names = self._names(level, table)
        self.within[level.name] = dict.fromkeys(name for _, name in names)
        for at, name in names:
            self.export_names.setdefault(
                f"{self._generic(level.parent)}{level.name}[*]/{name}", table.columns[at])
        position: dict[str, int] = defaultdict(int)
        mine: dict[str, tuple[int, str]] = {}
        parent_at, own_at = table.columns.index(parent_key), table.columns.index(own_key)
        for number, record in enumerate(table.rows, start=1):
            parent = record[parent_at].strip()
            if parent not in parents:
                raise InputFileError(
                    f"online export {where}: row {number} names parent {parent_key} '{parent}', "
                    f"which is not in {'the main table' if level.parent is None else level.parent}"
                    ": give the repeat tables of the same export as the main one")
            row, prefix = parents[parent]
            position[parent] += 1
            inner = f"{prefix}{level.name}[{position[parent]}]/"
            mine[record[own_at].strip()] = (row, inner)
            for at, name in names:
                column = inner + name
                self.added.setdefault(column)
                if record[at].strip():
                    self.values[row][column] = record[at].strip()
        self.instances[level.name] = mine
        return len(table.rows)

    def _generic(self, repeat: str | None) -> str:
        """The instance path of any copy of a repeat, `visit[*]/` ("" for the form)."""
        path: list[str] = []
        while repeat is not None:
            path.insert(0, f"{repeat}[*]/")
            repeat = self.levels[repeat].parent
        return "".join(path)

    def _names(self, level: RepeatLevel, table: Table) -> list[tuple[int, str]]:
        """(column index, name within a copy) of the table's answer columns: a question's name
        (`age`), or a multiple choice's 0/1 column (`crops/maize`). Group paths are left off as
        the main import leaves them off (the last component names the question)."""
        questions = own_questions(level.repeat)
        keys = set(KOBO_KEYS if self.kobo else ODK_KEYS)
        names: list[tuple[int, str]] = []
        for at, column in enumerate(table.columns):
            if column in keys or column.startswith(("_submission_", "_parent_")) or \
                    (self.kobo and column.startswith(("_", "meta/", "formhub/"))) or \
                    (not self.kobo and column.startswith("meta-")):
                continue
            names.append((at, _name_within(column, level.name, questions, self.kobo)))
        return names

    def _columns(self) -> list[str]:
        """The added columns: every printed copy's names that the tables have a column for, in
        the questionnaire's order (so a copy no one filled in online is matched, not missing),
        then the instances beyond them, as found."""
        printed: list[str] = []
        for question in self.questionnaire.questions:
            steps, rest = instance_path(question.name)
            if not steps or steps[-1][0] not in self.within:
                continue
            known = self.within[steps[-1][0]]
            prefix = question.name[:len(question.name) - len(rest)]
            printed.extend(prefix + name for name in known if name == rest)
            printed.extend(prefix + name for name in known if name.startswith(f"{rest}/"))
        listed = set(printed)
        return [*dict.fromkeys(printed), *(c for c in self.added if c not in listed)]


def _name_within(column: str, repeat: str, questions: dict[str, Question], kobo: bool) -> str:
    """A repeat table column's name within one copy. Kobo writes group paths with '/' (the
    repeat's own path included: `household/member/age`), ODK Central relative to the repeat
    with '-' (`about-age`); both write a multiple choice's 0/1 columns as `name/choice`."""
    if kobo:
        parts = column.split("/")
        if repeat in parts[:-1]:
            parts = parts[len(parts) - 1 - parts[::-1].index(repeat) + 1:]
        if len(parts) >= 2 and parts[-2] in questions and \
                questions[parts[-2]].type == "select_multiple":
            return f"{parts[-2]}/{parts[-1]}"
        return parts[-1]
    base, _, choice = column.partition("/")
    name = base if base in questions else base.rsplit("-", 1)[-1]
    return f"{name}/{choice}" if choice else name
