"""XLSForm templates (.xlsx, .xls, .csv, pyxform's .md): print the very workbook the online survey
uses.

pyxform reads the workbook into rows and checks it as it would for the online form (xlsform_check),
so what pyxform refuses papertwin refuses with pyxform's own words; the rows are then interpreted
here, because pyxform's survey model is shaped for XForms (paths, bindings, itext) and knows nothing
of grids, cells or printed "please specify" lines. Rows that cannot be printed are left out with a
warning naming the sheet row, so one workbook serves both the online and the paper survey.
"""

from __future__ import annotations

import csv
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import cache
from io import BytesIO
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from babel.core import Locale, UnknownLocaleError
from babel.localedata import locale_identifiers
from pyxform.xls2json_backends import csv_to_dict, md_to_dict, xls_to_dict, xlsx_to_dict

from pipeline.errors import TemplateError
from pipeline.forms.answer_shapes import shaped
from pipeline.forms.checks import check_questionnaire
from pipeline.forms.expression import ExpressionError, choice_test, parse
from pipeline.forms.limits import DEFAULT_LIMITS, TemplateLimits, check_sheets, read_limited
from pipeline.forms.logo import logo_paths
from pipeline.forms.markup import plain_text
from pipeline.forms.repeat_blocks import MAX_REPEAT_COUNT, suits_table
from pipeline.forms.safezip import check_xlsx
from pipeline.forms.xlsform_check import check_with_pyxform, name_notes
from pipeline.model import (
    ACKNOWLEDGED,
    CELL_TYPES,
    CHARSETS,
    DEFAULT_REPEAT_COUNT,
    Charset,
    Choice,
    Grid,
    Item,
    Label,
    Note,
    PrintSettings,
    Question,
    Questionnaire,
    QuestionType,
    Repeat,
    ReturnInfo,
    Section,
)

NAME_PATTERN = re.compile(r"^[^\W\d][\w.-]*$")
FORM_ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
NOT_IN_FORM_ID = re.compile(r"[^A-Za-z0-9_.-]")
# The older single-colon text columns (label:English, hint:French), as SurveyCTO still writes.
SINGLE_COLON = re.compile(r"^(label|hint)\s*:(?!:)\s*(.+)$", re.IGNORECASE)
PARAMETER = re.compile(r"([A-Za-z_-]+)\s*=\s*([^\s;,]+)")
FROM_FILE = re.compile(
    r"^(?P<kind>select_one_from_file|select one from file|select_multiple_from_file"
    r"|select multiple from file)\s+(?P<file>\S+)$", re.IGNORECASE)
RANK = re.compile(r"^rank\s+(?P<list>\S+)(?P<other>\s+or_other)?$", re.IGNORECASE)
LANGUAGE_IN_PARENTHESES = re.compile(r"\(\s*([^()]+?)\s*\)\s*$")
SELECT = re.compile(
    r"^(?P<kind>select_one|select one from|select one|select1|select_multiple|select multiple"
    r"|select all that apply from|select all that apply|add select one prompt using"
    r"|add select multiple prompt using|select_one_external|select one external)"
    r"\s+(?P<list>\S+)"
    r"(?P<other>\s+(?:or_other|or specify other))?$",
    re.IGNORECASE,
)

# Spellings of language names that Babel's locale data lacks; Babel knows the rest.
LANGUAGE_CODES: Mapping[str, str] = MappingProxyType({
    "oromiffa": "om", "afaan oromoo": "om", "oromifa": "om", "tigrigna": "ti",
    "tigirigna": "ti", "tigrinya": "ti", "farsi": "fa", "kiswahili": "sw", "mandarin": "zh",
    "chinese (simplified)": "zh_Hans", "chinese (traditional)": "zh_Hant", "filipino": "fil",
    "tagalog": "tl", "dari": "prs", "pashto": "ps", "kurdish": "ku", "oriya": "or",
})
LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
SELECT_TYPES: Mapping[str, QuestionType] = MappingProxyType({
    "select_one": "select_one", "select one": "select_one", "select1": "select_one",
    "select_multiple": "select_multiple", "select multiple": "select_multiple",
    "select all that apply": "select_multiple", "select one from": "select_one",
    "select all that apply from": "select_multiple", "add select one prompt using": "select_one",
    "add select multiple prompt using": "select_multiple",
    "select_one_external": "select_one", "select one external": "select_one",
})
PLAIN_TYPES: Mapping[str, QuestionType] = MappingProxyType({
    "text": "text", "string": "text", "integer": "integer", "int": "integer",
    "decimal": "decimal", "date": "date", "time": "time", "datetime": "datetime",
    "range": "range", "acknowledge": "acknowledge", "trigger": "acknowledge",
})
CONTROL_TYPES: Mapping[str, str] = MappingProxyType({
    "begin group": "begin group", "begin_group": "begin group",
    "end group": "end group", "end_group": "end group",
    "begin repeat": "begin repeat", "begin_repeat": "begin repeat",
    "end repeat": "end repeat", "end_repeat": "end repeat",
    "note": "note",
})
# Collected by the phone or computed by the form; nothing for a respondent to answer on paper.
METADATA_TYPES = frozenset({
    "start", "end", "today", "deviceid", "username", "phonenumber", "audit", "calculate",
    "hidden", "subscriberid", "simserial", "email", "start-geopoint", "background-audio",
    "background-geopoint", "xml-external", "csv-external",
    # SurveyCTO's: the case, and what the phone's sensors record during the interview
    "caseid", "comments", "text audit", "audio audit", "speed violations count",
    "speed violations list", "speed violations audit", "sensor_statistic", "sensor_stream",
    "calculate_here", "uri:deviceid", "uri:email", "uri:phonenumber", "uri:simserial",
    "uri:subscriberid", "uri:username", "imei",
})
DEFAULT_CELLS: Mapping[str, int] = MappingProxyType(
    {"integer": 6, "decimal": 8, "date": 8, "time": 4, "datetime": 12})
RANGE_DEFAULTS: Mapping[str, str] = MappingProxyType({"start": "1", "end": "10", "step": "1"})
HORIZONTAL_APPEARANCES = frozenset({"horizontal", "horizontal-compact"})
# pyxform's or_other adds an "other" choice and a text; these are their printed labels.
OTHER_CHOICE: Mapping[str, str] = MappingProxyType({"en": "Other", "cy": "Arall"})
OTHER_SPECIFY: Mapping[str, str] = MappingProxyType(
    {"en": "Other: please specify", "cy": "Arall: nodwch"})
# The survey sheet's text columns; the settings sheet's are read the same way (docs/
# template-format.md, "Postal settings"), each with a `::Language (code)` for other languages.
TEXT_COLUMNS = ("label", "hint")
POSTAL_SETTINGS = ("papertwin::organisation", "papertwin::introduction",
                   "papertwin::return_address", "papertwin::closing_date", "papertwin::helpline",
                   "papertwin::sender", "papertwin::logo")
PRINT_SETTINGS = (*POSTAL_SETTINGS, "papertwin::title", "papertwin::duplex")


def load_xlsform(path: Path, limits: TemplateLimits = DEFAULT_LIMITS
                 ) -> tuple[Questionnaire, list[str]]:
    """The questionnaire in an XLSForm, and warnings naming the rows that cannot be printed."""
    book = name_notes(_read_workbook(path, limits))
    loaded = _Interpreter(path, book, limits).questionnaire()  # its messages name the question
    check_with_pyxform(book, path)
    return loaded


def choice_files(path: Path, limits: TemplateLimits = DEFAULT_LIMITS) -> tuple[Path, ...]:
    """The files beside the form that its select_one_from_file questions take choices from and
    that exist: what must be kept with the form to print it again."""
    rows = _Interpreter(path, _read_workbook(path, limits), limits)._sheet("survey")
    named = dict.fromkeys(_parse_type(row.get("type", "")).file for row in rows)
    return tuple(path.parent / name for name in named if name and (path.parent / name).is_file())


def _read_workbook(path: Path, limits: TemplateLimits) -> Mapping[str, Any]:
    """The workbook's rows, read only once the file has passed the limits that bound reading."""
    readers: Mapping[str, Callable[[BytesIO], Any]] = {
        ".xlsx": xlsx_to_dict, ".xls": xls_to_dict, ".csv": csv_to_dict, ".md": md_to_dict}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise TemplateError(f"template {path}: an XLSForm must be a .xlsx, .xls, .csv or .md "
                            "file")
    data = read_limited(path, limits.file_bytes)
    if path.suffix.lower() == ".xlsx":
        check_xlsx(data, f"template {path}", limits)
    try:
        with warnings.catch_warnings():  # openpyxl's notes on print headers the form never uses
            warnings.simplefilter("ignore")
            book = reader(BytesIO(data))
    except Exception as exc:  # whatever the third-party reader trips on, the file is to blame
        raise TemplateError(
            f"template {path} is not a readable XLSForm: {_first_line(exc)}") from exc
    if not isinstance(book, Mapping):
        raise TemplateError(f"template {path} is not a readable XLSForm")
    check_sheets(book, f"template {path}", limits)
    return book


class _Type(NamedTuple):
    kind: str  # a QuestionType, a CONTROL_TYPES value, "metadata" or "unprintable"
    list_name: str = ""
    or_other: bool = False
    file: str = ""  # select_one_from_file: the file beside the form that holds the choices


def _parse_type(raw: str) -> _Type:
    text = " ".join(raw.split())
    lowered = text.lower()
    match = SELECT.match(text)
    if match and "${" in match["list"]:  # choices from earlier answers: none to print
        return _Type("unprintable")
    if match:
        kind = SELECT_TYPES[" ".join(match["kind"].lower().split())]
        return _Type(kind, match["list"], bool(match["other"]))
    rank = RANK.match(text)
    if rank:
        return _Type("rank", rank["list"], bool(rank["other"]))
    from_file = FROM_FILE.match(text)
    if from_file:
        multiple = "multiple" in from_file["kind"].lower()
        return _Type("select_multiple" if multiple else "select_one", file=from_file["file"])
    if lowered in PLAIN_TYPES:
        return _Type(PLAIN_TYPES[lowered])
    if lowered in CONTROL_TYPES:
        return _Type(CONTROL_TYPES[lowered])
    if lowered in METADATA_TYPES or lowered.split(" ")[0] in METADATA_TYPES:
        return _Type("metadata")
    return _Type("unprintable")


@dataclass(frozen=True)
class _Row:
    number: int  # the sheet row, the header being row 1
    cells: Mapping[str, str]

    @property
    def type(self) -> str:
        return self.cells.get("type", "")

    @property
    def name(self) -> str:
        return self.cells.get("name", "")

    @property
    def appearance(self) -> frozenset[str]:
        value = self.cells.get("appearance") or self.cells.get("control::appearance", "")
        return frozenset(value.lower().split())

    @property
    def relevant(self) -> str:
        for key in ("relevant", "relevance", "bind::relevant"):
            if self.cells.get(key):
                return self.cells[key]
        return ""

    @property
    def constraint(self) -> str:
        for key in ("constraint", "bind::constraint"):
            if self.cells.get(key):
                return self.cells[key]
        return ""

    @property
    def parameters(self) -> dict[str, str]:
        """The parameters column (`start=1 end=10 step=1`), keys in lower case."""
        value = self.cells.get("parameters") or self.cells.get("control::parameters", "")
        return {key.lower(): found for key, found in PARAMETER.findall(value)}

    def where(self) -> str:
        return f"survey row {self.number} ({self.name or 'no name'})"


@dataclass
class _Group:
    row: _Row
    children: list[_Row | _Group] = field(default_factory=list)
    repeat: bool = False  # a begin repeat ... end repeat


class _Interpreter:
    def __init__(self, path: Path, book: Mapping[str, Any],
                 limits: TemplateLimits = DEFAULT_LIMITS) -> None:
        self.source = f"template {path}"
        self.path = path
        self.book = book
        self.limits = limits
        self.warnings: list[tuple[int, str]] = []  # (sheet row, text), reported in row order
        self.claimed: dict[str, int] = {}
        settings = self._sheet("settings")
        self.settings: Mapping[str, str] = settings[0] if settings else {}
        self.default, self.languages = self._languages()
        # select_one_external's lists sit on a sheet of their own
        self.lists = {**self._choice_lists("external_choices"), **self._choice_lists("choices")}
        self.spaced_lists_warned: set[str] = set()

    def questionnaire(self) -> tuple[Questionnaire, list[str]]:
        survey = self._sheet("survey")
        if not survey:
            raise TemplateError(f"{self.source}: the workbook has no survey sheet, or it is empty")
        root = self._tree(survey)
        items: list[Item] = []
        self._emit_children(root, "", items)
        if not any(isinstance(i, Question | Grid | Repeat) for i in items):
            raise TemplateError(f"{self.source}: the survey sheet has no question papertwin can "
                                "print")
        form_id = self._form_id()
        questionnaire = Questionnaire(
            id=form_id,
            version=self.settings.get("version") or "1",
            title=self._title(form_id),
            items=tuple(items),
            languages=self.languages,
            intro=_paragraphs(self._label(self.settings, "papertwin::introduction")),
            organisation=self._label(self.settings, "papertwin::organisation"),
            returns=ReturnInfo(
                address=self._label(self.settings, "papertwin::return_address"),
                closing_date=self._label(self.settings, "papertwin::closing_date"),
                helpline=self._label(self.settings, "papertwin::helpline"),
            ),
            sender=self._label(self.settings, "papertwin::sender"),
            printing=self._printing(),
        )
        check_questionnaire(questionnaire, str(self.path))
        return questionnaire, [text for _, text in sorted(self.warnings, key=lambda w: w[0])]

    def _title(self, form_id: str) -> Label:
        """form_title, and the title in other languages from `papertwin::title::Welsh (cy)`
        (or `form_title::Welsh (cy)`, which pyxform cannot turn into an online form: warned);
        the default language's falls back, as pyxform's does, to title, then the form id."""
        given = self._label(self.settings, "form_title")
        if len(given.languages()) > 1 or (given and self.default not in given.languages()):
            self.warnings.append((0, "settings: a translated form_title (form_title::Language) "
                                     "stops pyxform making the online form; give the other "
                                     "languages' titles as papertwin::title::Language instead"))
        extra = self._label(self.settings, "papertwin::title").to_json()
        merged = {**extra, **given.to_json()}
        given = Label.of({code: merged[code] for code in self.languages if code in merged})
        if self.default in given.languages():
            return given
        fallback = (self.settings.get("title") or self.settings.get("form_id")
                    or self.settings.get("id_string") or form_id)
        texts = {self.default: fallback, **given.to_json()}
        return Label.of({code: texts[code] for code in self.languages if code in texts})

    def _printing(self) -> PrintSettings:
        """The logo (checked now, so a missing file stops the build) and double-sided printing."""
        for key in self.settings:
            if key.startswith("papertwin::") and _text_column(key, PRINT_SETTINGS) is None:
                self.warnings.append((0, f"settings: the column {key} is not a papertwin "
                                         f"setting and is not used (they are "
                                         f"{', '.join(PRINT_SETTINGS)})"))
        logo = self._label(self.settings, "papertwin::logo")
        duplex = _yes_or_no(self.settings.get("papertwin::duplex", ""), False,
                            f"{self.source}: settings: papertwin::duplex")
        return PrintSettings(
            logo=logo_paths(logo, self.path, "settings: papertwin::logo") if logo else logo,
            duplex=duplex)

    def _form_id(self) -> str:
        """The form_id as an identifier, for the form key: spaces made _, other signs dropped."""
        given = self.settings.get("form_id") or self.settings.get("id_string")
        raw = given or self.path.stem
        if FORM_ID_PATTERN.match(raw):
            return raw
        plain = unicodedata.normalize("NFKD", "_".join(raw.split()))  # Enquête -> Enquete
        made = NOT_IN_FORM_ID.sub("", plain)
        if not made or not FORM_ID_PATTERN.match(made):
            made = f"form_{made}" if made else "form"
        where = ("settings: form_id" if given else "the file name, used as the form id as the "
                 "settings sheet gives no form_id,")
        self.warnings.append((0, f"{where} '{raw}' is not an identifier: the form key uses "
                                 f"'{made}' (set form_id to letters, digits, _ . - to choose "
                                 "it)"))
        return made

    # Reading the sheets

    def _sheet(self, name: str) -> list[dict[str, str]]:
        """Rows with tidy keys; empty rows kept as {} so list positions stay sheet rows."""
        rows = self.book.get(name)
        if not isinstance(rows, list):
            return []
        return [_tidy(row) if isinstance(row, Mapping) else {} for row in rows]

    def _headers(self, name: str) -> list[str]:
        header = self.book.get(f"{name}_header")
        if isinstance(header, list) and header and isinstance(header[0], Mapping):
            return [_tidy_key(str(key)) for key in header[0]]
        keys: dict[str, None] = {}
        for row in self._sheet(name):
            keys.update(dict.fromkeys(row))
        return list(keys)

    def _languages(self) -> tuple[str, tuple[str, ...]]:
        """Default first, then the others in column order: the order the form prints them."""
        coded = [code for header in self._headers("survey") + self._headers("choices")
                 if (column := _text_column(header)) is not None and (code := column[1])]
        configured = self.settings.get("default_language", "")
        if configured:
            default = _language_code(configured)
        elif coded and not any(_text_column(h) == ("label", "") for h in self._headers("survey")):
            default = coded[0]
        else:
            default = "en"
        return default, tuple(dict.fromkeys([default, *coded]))

    def _label(self, cells: Mapping[str, str], kind: str) -> Label:
        """The text of column `kind` in each language of the form, from `kind` (the default
        language) and `kind::Language (code)` columns; markup dropped, line breaks kept."""
        texts: dict[str, str] = {}
        for key, value in cells.items():
            column = _text_column(key, (kind,))
            if column is not None and column[0] == kind and plain_text(value):
                texts.setdefault(column[1] or self.default, plain_text(value))
        return Label.of({code: texts[code] for code in self.languages if code in texts})

    def _fixed(self, texts: Mapping[str, str]) -> Label:
        return Label.of({code: texts.get(code, texts["en"]) for code in self.languages})

    def _choice_lists(self, sheet: str) -> dict[str, tuple[Choice, ...]]:
        """Choice names kept exactly as written (spaces, accents): they are the export's codes.

        A name twice in one list is refused (pyxform refuses it first, unless the settings
        allow duplicates; then the first is printed, a second box could not be told apart).
        """
        lists: dict[str, dict[str, Choice]] = {}  # by name, so a long list is checked quickly
        duplicates = self.settings.get("allow_choice_duplicates", "").lower() in ("yes", "true")
        for index, cells in enumerate(self._sheet(sheet)):
            if not cells:
                continue
            where = f"{self.source}: {sheet} row {index + 2}"
            list_name = cells.get("list_name") or cells.get("list name", "")
            name = cells.get("name") or cells.get("value", "")
            if not list_name:  # pyxform leaves such a row out too: a stray label or a remark
                self.warnings.append((0, f"{sheet} row {index + 2}: no list_name; left out"))
                continue
            if not name:
                raise TemplateError(f"{where}: choice of list '{list_name}' has no name: give "
                                    "it the code the online export should hold")
            choices = lists.setdefault(list_name, {})
            if name in choices:
                if duplicates:
                    self.warnings.append((0, f"{sheet} row {index + 2}: '{name}' is already "
                                             f"a choice of list '{list_name}'; printed once"))
                    continue
                raise TemplateError(f"{where}: '{name}' is already a choice of list "
                                    f"'{list_name}': give each choice of a list its own name")
            choices[name] = Choice(name, self._label(cells, "label") or Label.of({self.default:
                                                                                   name}))
        return {name: tuple(choices.values()) for name, choices in lists.items()}

    def _tree(self, rows: Sequence[Mapping[str, str]]) -> _Group:
        """Nest rows in their groups and repeats, each end checked against its begin."""
        root = _Group(_Row(1, {}))
        stack = [root]
        for index, cells in enumerate(rows):
            row = _Row(index + 2, cells)
            if not cells:
                continue
            if not row.type:
                if row.name or self._label(cells, "label"):
                    raise TemplateError(f"{self.source}: {row.where()}: the row has no type")
                continue
            kind = _parse_type(row.type).kind
            if kind in ("begin group", "begin repeat"):
                group = _Group(self._named(row), repeat=kind == "begin repeat")
                stack[-1].children.append(group)
                stack.append(group)
            elif kind in ("end group", "end repeat"):
                what = kind.removeprefix("end ")
                if len(stack) == 1 or stack[-1].repeat != (what == "repeat"):
                    raise TemplateError(f"{self.source}: {row.where()}: '{kind}' without a "
                                        f"'begin {what}' before it")
                stack.pop()
            else:
                stack[-1].children.append(row)
        if len(stack) > 1:
            what = "repeat" if stack[-1].repeat else "group"
            raise TemplateError(f"{self.source}: {stack[-1].row.where()}: 'begin {what}' has no "
                                f"'end {what}'")
        return root

    # Turning rows into items

    def _emit_children(self, group: _Group, relevant: str, out: list[Item]) -> None:
        for child in group.children:
            if isinstance(child, _Group):
                self._emit_group(child, relevant, out)
            else:
                self._emit_row(child, relevant, out)

    def _emit_group(self, group: _Group, relevant: str, out: list[Item]) -> None:
        # A group's condition holds for everything in it, so on paper each question carries it.
        relevant = _both(relevant, group.row.relevant)
        if group.repeat:
            repeat = self._repeat(group, relevant)
            if repeat is not None:
                out.append(repeat)
            return
        grid = self._grid(group, relevant)
        if grid is not None:
            out.append(grid)
            return
        label = self._label(group.row.cells, "label")
        if label:
            out.append(Section(group.row.name, label))
        self._emit_children(group, relevant, out)

    def _repeat(self, group: _Group, relevant: str) -> Repeat | None:
        """A repeat's items, printed as many times as `_repeat_count` says; names inside it are
        its own (stored per copy as `repeat[k]/name`), so they may reuse names outside it."""
        row = group.row
        self._claim(row.name, row)
        outer, self.claimed = self.claimed, {}
        items: list[Item] = []
        try:  # the repeat's condition is its own, so that routing can skip the whole repeat
            self._emit_children(group, "", items)
        finally:
            self.claimed = outer
        count = self._repeat_count(row)
        if not any(isinstance(i, Question | Grid | Repeat) for i in items) or count == 0:
            what = "repeat_count is 0" if count == 0 else "it has no question papertwin can print"
            self._warn(row, f"'begin repeat': {what}; left out")
            return None
        table = self._yes_no(row, "table", suits_table(items))
        if table:  # a table row has room for one line of writing per copy
            items = [replace(i, lines=1) if isinstance(i, Question) and i.type == "text" else i
                     for i in items]
        return Repeat(name=row.name, label=self._label(row.cells, "label") or Label.of(
                          {self.default: row.name}),
                      items=tuple(items), count=count, hint=self._label(row.cells, "hint"),
                      table=table, relevant=relevant)

    def _repeat_count(self, row: _Row) -> int:
        """A constant repeat_count, else papertwin::rows, else DEFAULT_REPEAT_COUNT copies."""
        given = row.cells.get("repeat_count") or row.cells.get("jr:count", "")
        fixed = _whole_number(given)
        if fixed is not None and fixed <= MAX_REPEAT_COUNT:
            return max(fixed, 0)
        count = self._whole(row, "rows", 1, MAX_REPEAT_COUNT, DEFAULT_REPEAT_COUNT)
        if fixed is not None:
            self._warn(row, f"repeat_count {fixed:,} is more copies than papertwin prints "
                       f"({MAX_REPEAT_COUNT}); {count} printed: set papertwin::rows to the number "
                       "wanted on paper")
        elif given and not row.cells.get("papertwin::rows"):
            self._warn(row, f"repeat_count '{given}' is worked out as the form is filled in, so "
                       f"paper cannot know it; {count} copies printed: set papertwin::rows to "
                       "the number of copies wanted on paper")
        return count

    def _yes_no(self, row: _Row, hint: str, default: bool) -> bool:
        return _yes_or_no(row.cells.get(f"papertwin::{hint}", ""), default,
                          f"{self.source}: {row.where()}: papertwin::{hint}")

    def _emit_row(self, row: _Row, relevant: str, out: list[Item]) -> None:
        parsed = _parse_type(row.type)
        if parsed.kind == "metadata":
            return
        if parsed.kind == "unprintable":
            self._warn(row, f"type '{' '.join(row.type.split())}' cannot be printed; left out")
            return
        self._named(row)
        if parsed.kind == "note":
            label = self._label(row.cells, "label")
            if label:
                out.append(Note(row.name, label))
            return
        choices: tuple[Choice, ...] = ()
        if parsed.file:
            from_file = self._file_choices(row, parsed)
            if from_file is None:
                return
            choices = from_file
        question = self._question(row, parsed, relevant, choices)
        previous = out[-1] if out else None
        condition = _choice_condition(row.relevant)
        if (question.type == "text" and condition is not None and condition[2]
                and isinstance(previous, Question) and previous.is_choice
                and condition[0] == previous.name):
            # XLSForm's "please specify": a text asked after one choice of the question above.
            question = replace(question, other_of=previous.name)
        out.append(question)
        if parsed.or_other:
            name = f"{row.name}_other"
            self._claim(name, row)
            out.append(Question(
                name=name, type="text", label=self._fixed(OTHER_SPECIFY), other_of=row.name,
                relevant=_both(relevant, f"selected(${{{row.name}}}, 'other')"),
            ))

    def _question(self, row: _Row, parsed: _Type, relevant: str,
                  choices: tuple[Choice, ...] = ()) -> Question:
        qtype: QuestionType = (SELECT_TYPES[parsed.kind] if parsed.kind in SELECT_TYPES
                               else "rank" if parsed.kind == "rank" else PLAIN_TYPES[parsed.kind])
        self._claim(row.name, row)
        if parsed.list_name:
            choices = self._choices(row, parsed)
        if qtype == "range":
            choices = self._range_choices(row)
        elif qtype == "acknowledge":
            choices = (Choice(ACKNOWLEDGED, Label.of({self.default: ACKNOWLEDGED})),)
        if parsed.list_name or parsed.file:
            self._check_choice_use(row, qtype, choices)
        label = self._label(row.cells, "label")
        if not label:
            self._warn(row, "the question has no label; printed without one")
        appearance = row.appearance
        question = Question(
            name=row.name, type=qtype, label=label, hint=self._label(row.cells, "hint"),
            choices=choices,
            lines=self._whole(row, "lines", 1, 40, 6 if "multiline" in appearance else 4),
            charset=self._charset(row, qtype), relevant=_both(relevant, row.relevant),
            constraint=row.constraint, horizontal=_horizontal(appearance),
        )
        return self._cells(row, question)

    def _cells(self, row: _Row, question: Question) -> Question:
        """Cells of a text or number, from `papertwin::cells`, else from the answer's shape (a
        postcode, a number's bounds), else the type's; a time's and a date-time's are fixed."""
        qtype = question.type
        if qtype in ("time", "datetime"):
            return replace(question, cells=DEFAULT_CELLS[qtype])
        if qtype in ("rank", "range", "acknowledge") or question.is_choice:
            return question
        given = self._whole(row, "cells", 0, 40, -1)
        return shaped(question, None if given < 0 else given, DEFAULT_CELLS.get(qtype, 0),
                      f"{self.source}: {row.where()}")

    def _check_choice_use(self, row: _Row, qtype: QuestionType,
                          choices: tuple[Choice, ...]) -> None:
        """Warn of a choice filter (not applied on paper), and of names a multiple choice's
        space-separated answer cannot hold."""
        if row.cells.get("choice_filter"):
            self._warn(row, f"choice_filter '{row.cells['choice_filter']}' is not applied on "
                       "paper: all the choices are printed")
        if qtype not in ("select_multiple", "rank"):
            return
        spaced = [c.name for c in choices if any(ch.isspace() for ch in c.name)]
        key = _parse_type(row.type).list_name or _parse_type(row.type).file
        if spaced and key not in self.spaced_lists_warned:
            self.spaced_lists_warned.add(key)
            shown = ", ".join(f"'{name}'" for name in spaced[:3])
            self._warn(row, f"choice names with a space ({shown}) cannot be told apart in a "
                       f"{qtype} answer, whose names are separated by spaces: rename them in "
                       f"list '{key}' (for example with _)")

    def _range_choices(self, row: _Row) -> tuple[Choice, ...]:
        """One box per value from start to end by step, named as the export writes the value."""
        given = {**RANGE_DEFAULTS, **row.parameters}
        try:
            start, end, step = (Decimal(given[key]) for key in ("start", "end", "step"))
        except InvalidOperation:
            start = end = step = Decimal(0)
        count = int((end - start) / step) + 1 if step and (end - start) / step >= 0 else 0
        if step == 0 or count < 1 or count > self.limits.choices_per_list:
            raise TemplateError(
                f"{self.source}: {row.where()}: a range needs parameters start, end and step "
                f"that give 1 to {self.limits.choices_per_list:,} values (for example "
                f"'start=1 end=10 step=1'), not '{row.cells.get('parameters', '')}'")
        values = [start + step * i for i in range(count)]
        return tuple(Choice(_number(v), Label.of({self.default: _number(v)})) for v in values)

    def _file_choices(self, row: _Row, parsed: _Type) -> tuple[Choice, ...] | None:
        """The choices of select_one_from_file: the CSV file beside the form, else None with a
        warning (the form still prints, without this question)."""
        path = self.path.parent / parsed.file
        if path.suffix.lower() != ".csv":
            self._warn(row, f"choices from '{parsed.file}': papertwin reads choices from a .csv "
                       "file only; left out")
            return None
        if not path.is_file():
            self._warn(row, f"choices file '{parsed.file}' is not beside the form; left out "
                       f"(put {parsed.file} in the form's folder to print it)")
            return None
        data = read_limited(path, self.limits.file_bytes, "choices file")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TemplateError(f"{self.source}: {row.where()}: choices file {path} is not "
                                "UTF-8 text: save it as CSV UTF-8") from exc
        rows = [_tidy(r) for r in csv.DictReader(text.splitlines())]
        value_key = row.parameters.get("value", "name").lower()
        label_key = row.parameters.get("label", "label").lower()
        choices: dict[str, Choice] = {}
        for number, cells in enumerate(rows, start=2):
            name = cells.get(value_key, "")
            if not name:
                raise TemplateError(f"{self.source}: {row.where()}: choices file {path} row "
                                    f"{number} has no '{value_key}'")
            label = (Label.of({self.default: cells[label_key]}) if label_key != "label"
                     and cells.get(label_key) else self._label(cells, "label"))
            choices.setdefault(name, Choice(name, label or Label.of({self.default: name})))
        if not choices:
            self._warn(row, f"choices file '{parsed.file}' has no choices; left out")
            return None
        return tuple(choices.values())

    def _choices(self, row: _Row, parsed: _Type) -> tuple[Choice, ...]:
        choices = self.lists.get(parsed.list_name)
        if choices is None:
            raise TemplateError(f"{self.source}: {row.where()}: no choice list named "
                                f"'{parsed.list_name}' on the choices sheet")
        if parsed.or_other and "other" not in {c.name for c in choices}:
            choices = (*choices, Choice("other", self._fixed(OTHER_CHOICE)))
        return choices

    def _grid(self, group: _Group, relevant: str) -> Grid | None:
        """A field-list of one header row ("label") and rows ("list-nolabel") on one list."""
        children = group.children
        if "field-list" not in group.row.appearance or len(children) < 2:
            return None
        rows = [child for child in children if isinstance(child, _Row)]
        if len(rows) != len(children):
            return None
        types = {_parse_type(row.type) for row in rows}
        if len(types) != 1:
            return None
        parsed = types.pop()
        if parsed.kind not in ("select_one", "select_multiple") or parsed.or_other or parsed.file:
            return None
        header, *body = rows
        if "label" not in header.appearance or not all("list-nolabel" in r.appearance
                                                         for r in body):
            return None
        choices = self._choices(header, parsed)
        name = group.row.name
        qtype: QuestionType = "select_multiple" if parsed.kind == "select_multiple" else (
            "select_one")
        questions = []
        for row in (header, *body):
            if row.cells.get("choice_filter"):
                self._check_choice_use(row, qtype, ())
        for row in body:
            self._named(row)
            self._claim(row.name, row)
            questions.append(Question(
                name=row.name, type=qtype, label=self._label(row.cells, "label"),
                hint=self._label(row.cells, "hint"), choices=choices, grid=name,
                relevant=_both(relevant, row.relevant),
            ))
        return Grid(
            name=name,
            label=self._label(group.row.cells, "label") or self._label(header.cells, "label"),
            choices=choices, rows=tuple(questions),
            hint=self._label(group.row.cells, "hint") or self._label(header.cells, "hint"),
            multiple=qtype == "select_multiple",
        )

    # Checks

    def _warn(self, row: _Row, text: str) -> None:
        self.warnings.append((row.number, f"{row.where()}: {text}"))

    def _named(self, row: _Row) -> _Row:
        if not row.name:
            raise TemplateError(f"{self.source}: {row.where()}: a '{row.type}' row needs a name")
        if not NAME_PATTERN.match(row.name):
            raise TemplateError(f"{self.source}: {row.where()}: name '{row.name}' must be letters, "
                                "digits, _ . - and start with a letter or _")
        return row

    def _claim(self, name: str, row: _Row) -> None:
        """Names are dataset columns; a second use would make one column hold two answers."""
        if name in self.claimed:
            raise TemplateError(f"{self.source}: {row.where()}: the name '{name}' is already used "
                                f"in survey row {self.claimed[name]}")
        self.claimed[name] = row.number

    def _whole(self, row: _Row, hint: str, low: int, high: int, default: int) -> int:
        value = row.cells.get(f"papertwin::{hint}", "")
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise TemplateError(f"{self.source}: {row.where()}: papertwin::{hint} must be a whole "
                                f"number {low}-{high}, not '{value}'")
        return number

    def _charset(self, row: _Row, qtype: QuestionType) -> Charset:
        default: Charset = "digits" if qtype in (*CELL_TYPES, "rank") else "any"
        value = row.cells.get("papertwin::charset", "").lower()
        if not value:
            return default
        for charset in CHARSETS:
            if charset == value:
                return charset
        raise TemplateError(f"{self.source}: {row.where()}: papertwin::charset must be one of "
                            f"{', '.join(CHARSETS)}, not '{value}'")


def _tidy_key(key: str) -> str:
    """Headers compared the way pyxform does: sheet-level names in any case, languages as given;
    the older `label:English` read as `label::English`."""
    single = SINGLE_COLON.match(key.strip())
    if single:
        key = f"{single[1]}::{single[2]}"
    parts = [part.strip() for part in key.split("::")]
    parts[0] = parts[0].lower()
    if parts[0] in ("papertwin", "bind", "control"):
        parts = [part.lower() for part in parts]
    return "::".join(parts)


def _tidy(row: Mapping[Any, Any]) -> dict[str, str]:
    return {_tidy_key(str(key)): str(value).strip() for key, value in row.items()
            if key is not None and value is not None and str(value).strip()}


def _text_column(header: str, kinds: Iterable[str] = TEXT_COLUMNS) -> tuple[str, str] | None:
    """(kind, language code, "" for the default language) for a text column of one of `kinds`:
    `label`, `label::Welsh (cy)`, `papertwin::sender::Welsh (cy)`."""
    for kind in kinds:
        if header == kind:
            return kind, ""
        if header.startswith(f"{kind}::") and "::" not in header[len(kind) + 2:]:
            return kind, _language_code(header[len(kind) + 2:])
    return None


def _paragraphs(label: Label) -> Label:
    """A cell's lines as paragraphs: an introduction is printed a paragraph per line."""
    return Label(tuple((lang, "\n\n".join(text.splitlines())) for lang, text in label.texts))


def _yes_or_no(value: str, default: bool, where: str) -> bool:
    value = value.lower()
    if not value:
        return default
    if value in ("yes", "true", "1"):
        return True
    if value in ("no", "false", "0"):
        return False
    raise TemplateError(f"{where} must be yes or no, not '{value}'")


def _language_code(name: str) -> str:
    """`English (en)` -> en; without a code, a language's name in English or in itself
    (`German`, `Deutsch`, `العربية`), else the name itself."""
    match = LANGUAGE_IN_PARENTHESES.search(name)
    if match and LANGUAGE_CODE.match(match[1]):
        return match[1]
    key = name.strip().lower()
    if key in LANGUAGE_CODES:
        return LANGUAGE_CODES[key]
    if match:  # `Chinese (Simplified)`: the name before the parentheses
        key = name[:match.start()].strip().lower()
    if LANGUAGE_CODE.match(key) and key.replace("-", "_").split("_")[0] in _babel_names().values():
        return key
    return LANGUAGE_CODES.get(key) or _babel_names().get(key) or _native_names().get(key, key)


@cache
def _babel_names() -> Mapping[str, str]:
    """Lower-case English name of each language -> its code, from Babel's locale data."""
    names = {name.lower(): code for code, name in Locale("en").languages.items()
             if "_" not in code}
    return MappingProxyType(names)


@cache
def _native_names() -> Mapping[str, str]:
    """Lower-case name of each language in itself (`deutsch`, `cymraeg`) -> its code."""
    names: dict[str, str] = {}
    for code in locale_identifiers():
        if "_" in code:
            continue
        try:
            name = Locale.parse(code).get_language_name(code)
        except (ValueError, UnknownLocaleError):
            continue
        if name:
            names.setdefault(name.lower(), code)
    return MappingProxyType(names)


def _number(value: Decimal) -> str:
    """A range value as ODK writes it: 3, 2.5, -1 (no exponent, no trailing zeros)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _horizontal(appearance: Iterable[str]) -> bool:
    return any(a in HORIZONTAL_APPEARANCES or a.startswith("columns") for a in appearance)


def _choice_condition(relevant: str) -> tuple[str, str, bool] | None:
    """(question, choice, asked when ticked?) for a condition on one choice of one question."""
    if not relevant:
        return None
    try:
        return choice_test(parse(relevant))
    except ExpressionError:
        return None


def _both(outer: str, inner: str) -> str:
    if not outer or not inner:
        return outer or inner
    return f"({outer}) and ({inner})"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _whole_number(text: str) -> int | None:
    """A constant count ("3", or "3.0" as a spreadsheet may store it), else None."""
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None
