"""What pyxform refuses in an XLSForm, papertwin refuses too, in pyxform's words.

An XLSForm is written for the online survey first; a form that pyxform cannot turn into an online
form (a choice name twice in one list, a field name with a space) would give paper answers no
online column to land in. So the workbook goes through pyxform's own conversion to its form
description (no XForm is written, no Java validator is run), and its error, which names the sheet
and row, becomes papertwin's. What online platforms accept before pyxform sees the form is
accepted here too: a note without a name is given one, as KoboToolbox does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import DefinitionData

from pipeline.errors import TemplateError

SHOWN_ERRORS = 3  # pyxform lists every bad row; the first few say what to change
NOTE_TYPE = re.compile(r"^\s*note\s*$", re.IGNORECASE)
ROW_MARK = re.compile(r"\[row : (\d+)\]")
ON_SHEET = re.compile(r"On the '(\w+)' sheet,\s*")
LEARN_MORE = re.compile(r"\s*Learn more: \S+")


def name_notes(book: Mapping[str, Any]) -> Mapping[str, Any]:
    """The workbook with a name for every note row that has none (`note_row_12`, from its sheet
    row), as KoboToolbox names them, so that the note prints and pyxform accepts the form."""
    survey = book.get("survey")
    if not isinstance(survey, list):
        return book
    used = {str(_cell(row, "name")) for row in survey if isinstance(row, Mapping)}
    rows: list[Any] = []
    changed = False
    for index, row in enumerate(survey):
        if (isinstance(row, Mapping) and NOTE_TYPE.match(str(_cell(row, "type") or ""))
                and not str(_cell(row, "name") or "").strip()):
            name = f"note_row_{index + 2}"
            while name in used:
                name += "_"
            used.add(name)
            row = {**{k: v for k, v in row.items() if str(k).strip().lower() != "name"},
                   "name": name}
            changed = True
        rows.append(row)
    if not changed:
        return book
    named = {**book, "survey": rows}
    header = book.get("survey_header")
    if isinstance(header, list) and header and isinstance(header[0], Mapping) and not any(
            str(key).strip().lower() == "name" for key in header[0]):
        named["survey_header"] = [{**header[0], "name": None}]
    return named


def check_with_pyxform(book: Mapping[str, Any], path: Path) -> None:
    """Refuse, in pyxform's words, a workbook that pyxform would not turn into an online form."""
    fields = {key: value for key, value in _unspaced(book).items()
              if key in DefinitionData.__dataclass_fields__}
    try:
        workbook_to_json(DefinitionData(fallback_form_name=_identifier(path.stem), **fields),
                         fallback_form_name=_identifier(path.stem), warnings=[])
    except PyXFormError as exc:
        raise TemplateError(f"template {path}: pyxform, which turns the workbook into the online "
                            f"form, refuses it: {_message(str(exc))}") from exc
    except Exception as exc:  # pyxform tripped on the workbook itself: the file is to blame
        text = str(exc).strip().splitlines()
        raise TemplateError(f"template {path}: pyxform cannot read it as an XLSForm "
                            f"({text[0] if text else type(exc).__name__}): check it opens in "
                            "the online platform") from exc


def _unspaced(book: Mapping[str, Any]) -> Mapping[str, Any]:
    """The workbook with _ for spaces in choice names, for pyxform's check only: forms made
    before pyxform refused them on a multiple choice still have exports holding those codes,
    so papertwin prints them (and warns where a multiple choice's answer cannot hold them)."""
    choices = book.get("choices")
    if not isinstance(choices, list):
        return book
    rows = [{k: ("_".join(str(v).split()) if str(k).strip().lower() == "name"
                 and isinstance(v, str) else v) for k, v in row.items()}
            if isinstance(row, Mapping) else row for row in choices]
    return {**book, "choices": rows}


def _message(text: str) -> str:
    """pyxform's errors, one per bad row: the first few, each on its sheet row, joined."""
    errors: list[str] = []
    for line in (LEARN_MORE.sub("", line).strip() for line in text.splitlines()):
        if not line or line.startswith("{"):  # pyxform's own row, as a Python dict
            continue
        if errors and not ROW_MARK.match(line):
            errors[-1] = f"{errors[-1]} {line}"
        else:
            errors.append(line)
    errors = [_on_its_sheet(error).rstrip(".") for error in errors]
    shown = "; ".join(errors[:SHOWN_ERRORS])
    more = len(errors) - SHOWN_ERRORS
    return shown + (f" (and {more} more like it)" if more > 0 else "")


def _on_its_sheet(error: str) -> str:
    """`[row : 7] On the 'choices' sheet, the ...` as `choices row 7: the ...`; pyxform's rows
    are the survey sheet's unless it says otherwise."""
    mark = ROW_MARK.match(error)
    if mark is None:
        return error
    rest = error[mark.end():].strip()
    sheet = ON_SHEET.match(rest)
    if sheet:
        return f"{sheet[1]} row {mark[1]}: {rest[sheet.end():]}"
    return f"survey row {mark[1]}: {rest}"


def _cell(row: Mapping[Any, Any], key: str) -> Any:
    for name, value in row.items():
        if str(name).strip().lower() == key:
            return value
    return None


def _identifier(stem: str) -> str:
    made = re.sub(r"[^A-Za-z0-9_]", "", "_".join(stem.split()))
    return made if made and not made[0].isdigit() else f"form_{made}"
