"""Forms printed by queXF: a layout manifest from its banding file, so papertwin reads its scans.

The banding file describes, per page, the four corner points of the page (the inner corners of
its L-shaped marks) and every box group: its variable name, type and boxes, as pixel rectangles
on a 300 dpi page. queXF names each page with an Interleaved 2 of 5 barcode that says which page
it is, not which copy; papertwin makes a response of consecutive pages in one scan file.

Box group types: 1 single choice, 2 multiple choice, 3 text one character per box, 4 number one
digit per box, 5 barcode (not an answer), 6 long text.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import TemplateError
from pipeline.forms.checks import check_questionnaire
from pipeline.forms.manifest import geometry_digest, make_form_key
from pipeline.forms.route import END
from pipeline.forms.safexml import parse_xml_file
from pipeline.model import Choice, Item, Label, Question, Questionnaire, Section
from pipeline.records import Box, FieldBox, Layout, Mark, PageCodes, PageLayout

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

BANDING_DPI = 300.0
PT_PER_PX = 72.0 / BANDING_DPI
A4_PT = (595.28, 841.89)
# queXF prints the page barcode across the top right, above the top-right mark.
BARCODE_BOX_PX = (1450.0, 0.0, 2400.0, 170.0)
CORNERS = (("tlx", "tly"), ("trx", "try"), ("blx", "bly"), ("brx", "bry"))
SPECIFY = re.compile(r"^\s*(please\s+)?specify\b", re.IGNORECASE)
OPENS_SPECIFY = re.compile(r"^\s*(yes|other)\b", re.IGNORECASE)
# Type 3 is any text; one that asks for an amount is read as digits, which reads far better.
AMOUNT = re.compile(r"[$£€]|\bhow (much|many)\b|\bnumber of\b|\bage\b", re.IGNORECASE)
NAME = re.compile(r"[^A-Za-z0-9_]+")
LAYOUT_NAME = "layout.json"

TYPE_SINGLE, TYPE_MULTIPLE, TYPE_CHARS, TYPE_NUMBER, TYPE_BARCODE, TYPE_LONGTEXT = (
    "1", "2", "3", "4", "5", "6")


@dataclass(frozen=True)
class _Group:
    page: int
    varname: str
    type: str
    label: str
    section: str
    boxes: tuple[tuple[Box, str, str], ...]  # rectangle in points, value, label


def banding_layout(banding: Path, form_id: str | None = None) -> tuple[Layout, list[str]]:
    """A queXF banding file as a layout manifest, with warnings about what papertwin will not
    read (barcode fields, rotated pages). `form_id` names the form (by default the queXF
    questionnaire's id, else the file's name); a file papertwin cannot read as a banding file is
    a TemplateError."""
    root = parse_xml_file(banding, "queXF", "banding file")
    questionnaire_element = root.find("questionnaire")
    if questionnaire_element is None:
        raise TemplateError(f"banding file {banding} has no <questionnaire>")
    source = str(banding)
    warnings: list[str] = []
    sections = {s.get("id", ""): s for s in questionnaire_element.findall("section")}
    pages: list[PageLayout] = []
    codes: list[tuple[str, int]] = []
    groups: list[_Group] = []
    for number, page in enumerate(questionnaire_element.findall("page"), start=1):
        code = (page.findtext("id") or "").strip()
        if not code.isdigit():
            raise TemplateError(f"banding file {banding}: page {number} has no numeric <id> "
                                "(the page barcode)")
        if (page.findtext("rotation") or "0").strip() not in ("0", ""):
            warnings.append(f"page {code}: banded as rotated; papertwin assumes it upright")
        codes.append((code, number))
        marks = tuple(_corner_mark(page, key_x, key_y, source, code)
                      for key_x, key_y in CORNERS)
        page_groups = [_group(g, number, source, code) for g in page.findall("boxgroup")]
        kept = [g for g in page_groups if g is not None and g.type != TYPE_BARCODE]
        skipped = [g for g in page_groups if g is not None and g.type == TYPE_BARCODE]
        warnings += [f"page {code}: barcode field {g.varname} is not an answer; not read"
                     for g in skipped]
        groups += kept
        pages.append(PageLayout(number, marks, _scale(BARCODE_BOX_PX),
                                tuple(f for g in kept for f in _fields(g))))
    if not pages:
        raise TemplateError(f"banding file {banding} describes no pages")
    qid = (questionnaire_element.findtext("id") or "").strip()
    name = form_id or _slug(f"quexf_{qid}" if qid else banding.stem)
    title = f"{banding.stem} (queXF questionnaire {qid})" if qid else banding.stem
    questionnaire = _questionnaire(name, title, groups, sections, warnings)
    check_questionnaire(questionnaire, source)
    page_codes = PageCodes("ITF", tuple(codes), system="queXF")
    digest = geometry_digest(A4_PT, tuple(pages), questionnaire)
    # The page codes decide which geometry a page is read with, so they are part of the key.
    digest = hashlib.sha256((digest + json.dumps(codes)).encode()).hexdigest()
    layout = Layout(
        form_key=make_form_key(questionnaire, digest),
        title=questionnaire.title.text(),
        page_size=A4_PT,
        pages=tuple(pages),
        questionnaire=questionnaire,
        page_codes=page_codes,
    )
    return layout, warnings


def _corner_mark(page: Element, key_x: str, key_y: str, source: str, code: str) -> Mark:
    try:
        x, y = float(page.findtext(key_x) or ""), float(page.findtext(key_y) or "")
    except ValueError as exc:
        raise TemplateError(f"banding file {source}: page {code} lacks its corner point "
                            f"<{key_x}>/<{key_y}>") from exc
    px, py = x * PT_PER_PX, y * PT_PER_PX
    return Mark((px - 0.5, py - 0.5, px + 0.5, py + 0.5), "corner")


def _group(element: Element, page: int, source: str, code: str) -> _Group | None:
    varname = (element.findtext("varname") or "").strip()
    kind = (element.findtext("type") or "").strip()
    if not varname:
        raise TemplateError(f"banding file {source}: page {code} has a box group with no "
                            "<varname>")
    if kind not in (TYPE_SINGLE, TYPE_MULTIPLE, TYPE_CHARS, TYPE_NUMBER, TYPE_BARCODE,
                    TYPE_LONGTEXT):
        raise TemplateError(f"banding file {source}: box group {varname} has type {kind!r}; "
                            "queXF types are 1 to 6")
    boxes = []
    for box in element.findall("box"):
        try:
            rect = tuple(float(box.findtext(k) or "") * PT_PER_PX
                         for k in ("tlx", "tly", "brx", "bry"))
        except ValueError as exc:
            raise TemplateError(f"banding file {source}: a box of {varname} has no "
                                "numeric rectangle") from exc
        x0, y0, x1, y1 = rect
        if x1 <= x0 or y1 <= y0:
            raise TemplateError(f"banding file {source}: a box of {varname} is empty")
        boxes.append(((x0, y0, x1, y1), (box.findtext("value") or "").strip(),
                      (box.findtext("label") or "").strip()))
    if not boxes:
        raise TemplateError(f"banding file {source}: box group {varname} has no boxes")
    section = element.find("groupsection")
    return _Group(page, varname, kind, (element.findtext("label") or "").strip(),
                  section.get("idref", "") if section is not None else "", tuple(boxes))


def _fields(group: _Group) -> list[FieldBox]:
    if group.type in (TYPE_SINGLE, TYPE_MULTIPLE):
        return [FieldBox(group.varname, "choice", box, value=_choice_name(value, index))
                for index, (box, value, _) in enumerate(group.boxes)]
    if group.type == TYPE_LONGTEXT:
        x0 = min(b[0][0] for b in group.boxes)
        y0 = min(b[0][1] for b in group.boxes)
        x1 = max(b[0][2] for b in group.boxes)
        y1 = max(b[0][3] for b in group.boxes)
        return [FieldBox(group.varname, "text", (x0, y0, x1, y1))]
    return [FieldBox(group.varname, "char", box, index=index)
            for index, (box, _, _) in enumerate(group.boxes)]


def _choice_name(value: str, index: int) -> str:
    return value or str(index + 1)


def _questionnaire(name: str, title: str, groups: list[_Group], sections: dict[str, Element],
                   warnings: list[str]) -> Questionnaire:
    items: list[Item] = []
    current_section = None
    for group in groups:
        if group.section != current_section and group.section in sections:
            current_section = group.section
            element = sections[group.section]
            letter = (element.findtext("title") or "").strip()
            text = (element.findtext("label") or "").strip()
            heading = f"{letter}: {text}" if letter and text else letter or text
            items.append(Section(_slug(f"section_{letter or group.section}"), Label.of(heading)))
        question = _question(group)
        if group.type == TYPE_CHARS and question.type == "integer":
            warnings.append(f"{group.varname}: text boxes read as digits, since the label asks "
                            "for an amount")
        items.append(question)
    items = _link_specify(items, warnings)
    return Questionnaire(id=name, version="1", title=Label.of(title), items=tuple(items))


def _question(group: _Group) -> Question:
    label = Label.of(group.label or group.varname)
    if group.type in (TYPE_SINGLE, TYPE_MULTIPLE):
        choices = tuple(Choice(_choice_name(value, index), Label.of(text or value))
                        for index, (_, value, text) in enumerate(group.boxes))
        if group.type == TYPE_SINGLE:
            return Question(group.varname, "select_one", label, choices=choices)
        return Question(group.varname, "select_multiple", label, choices=choices)
    if group.type == TYPE_NUMBER or (group.type == TYPE_CHARS and AMOUNT.search(group.label)):
        return Question(group.varname, "integer", label, cells=len(group.boxes),
                        charset="digits")
    if group.type == TYPE_CHARS:
        return Question(group.varname, "text", label, cells=len(group.boxes),
                        charset="capitals")
    return Question(group.varname, "text", label, lines=max(2, len(group.boxes)))


def _link_specify(items: list[Item], warnings: list[str]) -> list[Item]:
    """A 'please specify' text straight after a single choice belongs to it; the banding does not
    say so, but its label does. The choices that do not open it route past it, as printed."""
    linked = list(items)
    for index, item in enumerate(items):
        if not (isinstance(item, Question) and item.type == "text" and index > 0
                and SPECIFY.match(item.label.text())):
            continue
        owner = items[index - 1]
        if not (isinstance(owner, Question) and owner.type == "select_one"):
            continue
        opening = [c for c in owner.choices if OPENS_SPECIFY.match(c.label.text())]
        if len(opening) != 1:
            warnings.append(f"{item.name}: a 'please specify' text after {owner.name}, but no "
                            "single Yes/Other choice opens it; written text is kept unchecked")
            continue
        after = next((i.name for i in items[index + 1:] if isinstance(i, Question)), END)
        routed = tuple(c if c is opening[0] else replace(c, route_to=after)
                       for c in owner.choices)
        linked[index - 1] = replace(owner, choices=routed)
        linked[index] = replace(item, other_of=owner.name)
    return linked


def _slug(text: str) -> str:
    return NAME.sub("_", text).strip("_").lower() or "quexf"


def _scale(box: tuple[float, float, float, float]) -> Box:
    x0, y0, x1, y1 = box
    return (x0 * PT_PER_PX, y0 * PT_PER_PX, x1 * PT_PER_PX, y1 * PT_PER_PX)
