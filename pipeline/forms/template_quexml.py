"""queXML templates: the paper questionnaire format LimeSurvey exports and queXMLPDF prints.

The file comes from outside, so it is parsed with defusedxml (no entity declarations, no external
references) and every problem is a TemplateError naming the file. What papertwin cannot print
(visual analogue scales, barcode fields, interviewer instructions) is left out with a warning that
names the element, so the person building the form knows what the paper copy lacks.

Question names are the queXML varNames, which are the column names of LimeSurvey's response
export; choice names are the category values, the codes in those columns.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import TemplateError
from pipeline.forms.checks import check_questionnaire
from pipeline.forms.limits import DEFAULT_LIMITS, TemplateLimits
from pipeline.forms.route import END
from pipeline.forms.safexml import parse_xml_file
from pipeline.model import (
    Choice,
    Grid,
    Item,
    Label,
    Note,
    Question,
    Questionnaire,
    ReturnInfo,
    Section,
)

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element  # types only: parsing goes through defusedxml

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FORM_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")
HTML_BREAK = re.compile(r"<\s*(br\s*/?|/p|/div|/li)\s*>", re.IGNORECASE)
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")

NUMBER_FORMATS = ("integer", "number", "numeric", "currency")
BARCODE_FORMATS = ("i25", "codabar")
MAX_TEXT_CELLS = 24  # a short text up to this length is written one character per cell
CHARS_PER_LINE = 50  # handwriting on one line of a text area
MM_PER_LINE = 8  # queXMLPDF draws a longtext `length` mm tall
MAX_LINES = 40
MAX_CELLS = 40
DEFAULT_NUMBER_CELLS = 6
DATE_CELLS = 8
SHORT_TEXT_LINES = 2


@dataclass(frozen=True)
class _Skip:
    """A skipTo waiting for the whole document, since it may point forward."""

    question: str
    choice: str
    target: str
    ref: str


def load_quexml(path: Path, limits: TemplateLimits = DEFAULT_LIMITS
                ) -> tuple[Questionnaire, list[str]]:
    """Read a queXML file; errors are TemplateErrors naming the file, gaps are warnings."""
    root = parse_xml_file(path, "questionnaire", "template", limits.file_bytes)
    elements = sum(1 for _ in root.iter())
    if elements > limits.cells:
        raise TemplateError(
            f"template {path} has {elements:,} XML elements; papertwin reads at most "
            f"{limits.cells:,} (cells limit): split the questionnaire")
    source = str(path)
    builder = _Builder(source, _language(root, source))
    questionnaire = builder.questionnaire(root)
    check_questionnaire(questionnaire, source)
    return questionnaire, builder.warnings


def _language(root: Element, source: str) -> str:
    """queXML names no language; an xml:lang on the root is the only thing the file can say."""
    code = (root.get(XML_LANG) or "").strip()
    if code and not LANGUAGE_CODE.match(code):
        raise TemplateError(f"template {source}: xml:lang '{code}' is not a language code")
    return code or "en"


class _Builder:
    """One pass over the document; skips are resolved at the end, when every target is known."""

    def __init__(self, source: str, lang: str) -> None:
        self.source = source
        self.lang = lang
        self.items: list[Item] = []
        self.warnings: list[str] = []
        self.anchors: dict[str, int] = {}  # varName or id -> index of the item it starts at
        self.skips: list[_Skip] = []
        self.var_names: set[str] = set()
        self.numbered = 0

    # The questionnaire and its sections

    def questionnaire(self, root: Element) -> Questionnaire:
        form_id = (root.get("id") or "").strip()
        if not form_id:
            raise TemplateError(f"template {self.source}: <questionnaire> has no id attribute")
        if not FORM_ID.match(form_id):
            raise TemplateError(f"template {self.source}: questionnaire id '{form_id}' must be "
                                "letters, digits, _ . -")
        self.var_names = {v for e in root.iter() if (v := e.get("varName"))}
        title = "\n".join(t for t in (_texts(root, "title"), _texts(root, "subtitle")) if t)
        if not title:
            title = f"Questionnaire {form_id}"
            self.warnings.append(f"questionnaire {form_id}: no <title>; printed as '{title}'")
        intro: list[str] = []
        closing: list[str] = []
        for info in root.findall("questionnaireInfo"):
            text = _texts(info, "text")
            if text and self._for_respondent(info, "questionnaire information"):
                position = _text_of(info.find("position")) or "before"
                (closing if position in ("after", "appendix") else intro).append(text)
        sections = root.findall("section")
        if not sections:
            raise TemplateError(f"template {self.source}: <questionnaire> has no <section>")
        for number, section in enumerate(sections, start=1):
            self.section(section, number)
        if not any(isinstance(item, Question | Grid) for item in self.items):
            first = f" ({self.warnings[0]})" if self.warnings else ""
            raise TemplateError(f"template {self.source}: none of its questions can be printed "
                                f"on paper{first}")
        if closing:
            self.items.append(Note("questionnaire_after", self.label("\n".join(closing))))
        return Questionnaire(
            id=form_id,
            version="1",  # queXML has no version; the form key still tells layouts apart
            title=self.label(title),
            items=self._with_skips(),
            languages=(self.lang,),
            intro=self.label("\n".join(intro)),
            organisation=self.label(_organisation(root)),
            returns=_returns(root, self.lang),
        )

    def section(self, element: Element, number: int) -> None:
        section_id = re.sub(r"[^A-Za-z0-9_.-]", "_", (element.get("id") or "").strip())
        name = f"section_{section_id or number}"
        titles: list[str] = []
        before: list[str] = []
        after: list[str] = []
        for info in element.findall("sectionInfo"):
            text = _texts(info, "text")
            if text and self._for_respondent(info, f"section {section_id or number}"):
                position = _text_of(info.find("position")) or "before"
                {"title": titles, "after": after}.get(position, before).append(text)
        show_info = element.get("hideinfo") != "true"
        if titles and element.get("hidetitle") != "true":
            self.items.append(Section(name, self.label(" ".join(titles))))
        if before and show_info:
            self.items.append(Note(f"{name}_before", self.label("\n".join(before))))
        for question in element.findall("question"):
            self.question(question)
        if after and show_info:
            self.items.append(Note(f"{name}_after", self.label("\n".join(after))))

    # Questions

    def question(self, element: Element) -> None:
        self.numbered += 1
        where = f"<question> number {self.numbered}"
        responses = element.findall("response")
        subs = element.findall("subQuestion")
        ref = _ref(element, self.numbered)
        if element.get("id"):
            self.anchor(str(element.get("id")))
        text = _texts(element, "text")
        hint = self._hint(element, ref)
        if not responses:
            if text:  # asks nothing: printed as a note, as LimeSurvey's boilerplate would be
                self.items.append(Note(f"note_{self.numbered}", self.label(text)))
            return
        if subs:
            self.matrix(where, ref, text, hint, responses, subs)
            return
        categories = [_only_category(r) for r in responses]
        if len(responses) > 1 and all(c is not None for c in categories):
            self.multiple(where, ref, text, hint, responses)
            return
        several = len(responses) > 1
        for index, response in enumerate(responses):
            self.single(response, where, text, hint if index == 0 else "", several)

    def single(self, response: Element, where: str, text: str, hint: str, several: bool) -> None:
        name = self._var(response, f"a <response> of {where}")
        self.anchor(name)
        kind = _kind(response)
        fixed, free = response.find("fixed"), response.find("free")
        if kind == "fixed" and fixed is not None:
            choices, contingents = self.categories(fixed, name, name, routes=True)
            self.items.append(Question(name=name, type="select_one", label=self.label(text),
                                       hint=self.label(hint), choices=choices))
            self.place_contingents(name, name, contingents, choices)
        elif kind == "free" and free is not None:
            field_label = _texts(free, "label")
            if several and field_label:
                text = f"{text}: {field_label}" if text else field_label
            elif field_label:
                hint = f"{hint} {field_label}".strip()
            question = self.free(free, name, self.label(text), self.label(hint), name)
            if question is not None:
                self.items.append(question)
        else:
            self.unsupported(name, kind)

    def multiple(self, where: str, ref: str, text: str, hint: str,
                 responses: list[Element]) -> None:
        """Responses of one category each: LimeSurvey's multiple choice, one column per option."""
        names = [self._var(r, f"a <response> of {where}") for r in responses]
        if len(set(names)) != len(names):
            raise TemplateError(f"template {self.source}: question {ref}: two responses share "
                                "one varName")
        name = self._set_name(names)
        for var in names:
            self.anchor(var)
        choices: list[Choice] = []
        contingents: list[tuple[int, Element]] = []
        for index, (response, var) in enumerate(zip(responses, names, strict=True)):
            category = _only_category(response)
            if category is None:
                continue
            label = _text_of(category.find("label")) or var
            choices.append(Choice(var, self.label(label)))
            target = _skip_target(category)
            if target:
                self.skips.append(_Skip(name, var, target, name))
            contingent = category.find("contingentQuestion")
            if contingent is not None:
                contingents.append((index, contingent))
        self.items.append(Question(name=name, type="select_multiple", label=self.label(text),
                                   hint=self.label(hint), choices=tuple(choices)))
        self.place_contingents(name, name, contingents, tuple(choices))

    def matrix(self, where: str, ref: str, text: str, hint: str, responses: list[Element],
               subs: list[Element]) -> None:
        """subQuestions share the response: a grid of choices, or one answer box per row."""
        if len(responses) != 1:
            self.warnings.append(f"question {ref}: a table with {len(responses)} responses per "
                                 "row cannot be printed; left out")
            return
        response = responses[0]
        name = self._var(response, f"the <response> of {where}")
        rows = [(self._var(s, f"a <subQuestion> of {where}"), _texts(s, "text")) for s in subs]
        for sub, (row_name, _) in zip(subs, rows, strict=True):
            if sub.find("contingentQuestion") is not None:
                self.warnings.append(f"question {row_name}: a 'please specify' text on a table "
                                     "row cannot be printed; left out")
            if sub.find("skip") is not None:
                self.warnings.append(f"question {row_name}: a skip from a table row cannot be "
                                     "printed; printed without a routing instruction")
        kind = _kind(response)
        fixed, free = response.find("fixed"), response.find("free")
        self.anchor(name)
        if kind == "fixed" and fixed is not None:
            choices, contingents = self.categories(fixed, name, name, routes=False)
            for _, contingent in contingents:
                self.warnings.append(f"question {name}: the 'please specify' text "
                                     f"{contingent.get('varName', '')} of a table column cannot "
                                     "be printed; left out")
            for row_name, _ in rows:
                self.anchor(row_name)
            grid_rows = tuple(
                Question(name=row_name, type="select_one", label=self.label(row_text),
                         choices=choices, grid=name)
                for row_name, row_text in rows
            )
            self.items.append(Grid(name=name, label=self.label(text), choices=choices,
                                   rows=grid_rows, hint=self.label(hint)))
        elif kind == "free" and free is not None:
            self.items.append(Note(name, self.label("\n".join(t for t in (text, hint) if t))))
            for row_name, row_text in rows:
                self.anchor(row_name)
                question = self.free(free, row_name, self.label(row_text), Label(), name)
                if question is not None:
                    self.items.append(question)
        else:
            self.unsupported(name, kind)

    # Responses

    def categories(self, fixed: Element, owner: str, ref: str, routes: bool
                   ) -> tuple[tuple[Choice, ...], list[tuple[int, Element]]]:
        choices: list[Choice] = []
        contingents: list[tuple[int, Element]] = []
        for index, category in enumerate(fixed.findall("category")):
            value = (category.findtext("value") or "").strip()
            if not value:
                raise TemplateError(f"template {self.source}: question {ref}: category "
                                    f"{index + 1} has no <value>")
            if value in {c.name for c in choices}:
                raise TemplateError(f"template {self.source}: question {ref}: two categories "
                                    f"share the value '{value}'")
            choices.append(Choice(value, self.label(_text_of(category.find("label")) or value)))
            target = _skip_target(category)
            if target and routes:
                self.skips.append(_Skip(owner, value, target, ref))
            elif target:
                self.warnings.append(f"question {ref}: skipTo {target} on a table column cannot "
                                     "be printed; printed without a routing instruction")
            contingent = category.find("contingentQuestion")
            if contingent is not None:
                contingents.append((index, contingent))
        if not choices:
            raise TemplateError(f"template {self.source}: question {ref}: <fixed> has no "
                                "<category>")
        return tuple(choices), contingents

    def free(self, free: Element, name: str, label: Label, hint: Label, ref: str
             ) -> Question | None:
        fmt = (_text_of(free.find("format")) or "text").lower()
        length = _length(free)
        if fmt in NUMBER_FORMATS:
            cells = _clamp(length or DEFAULT_NUMBER_CELLS, 1, MAX_CELLS)
            return Question(name=name, type="integer", label=label, hint=hint, cells=cells,
                            charset="digits")
        if fmt == "date":
            return Question(name=name, type="date", label=label, hint=hint, cells=DATE_CELLS,
                            charset="digits")
        if fmt in BARCODE_FORMATS:
            self.warnings.append(f"question {ref} ({fmt}): a barcode field cannot be filled in "
                                 "by hand; left out")
            return None
        if fmt not in ("text", "longtext"):
            self.warnings.append(f"question {ref}: free format '{fmt}' is not known; printed "
                                 "as text")
            fmt = "text"
        lines, cells = _text_shape(fmt, length)
        return Question(name=name, type="text", label=label, hint=hint, lines=lines, cells=cells)

    def place_contingents(self, owner: str, ref: str, found: list[tuple[int, Element]],
                          choices: tuple[Choice, ...]) -> None:
        """A form prints one "please specify" per question, beside the last choice."""
        for index, element in found:
            name = self._var(element, f"the <contingentQuestion> of question {ref}")
            if index != len(choices) - 1:
                self.warnings.append(
                    f"question {ref}: the 'please specify' text {name} belongs to choice "
                    f"'{choices[index].name}', but only one beside the last choice can be "
                    "printed; left out")
                continue
            fmt = (_text_of(element.find("format")) or "text").lower()
            lines, cells = _text_shape("longtext" if fmt == "longtext" else "text",
                                       _length(element))
            self.anchor(name)
            self.items.append(Question(name=name, type="text",
                                       label=self.label(_texts(element, "text")),
                                       lines=lines, cells=cells, other_of=owner))

    def unsupported(self, ref: str, kind: str) -> None:
        if kind == "vas":
            reason = "(vas): a visual analogue scale cannot be printed"
        elif kind == "dvas":
            reason = "(dvas): a discrete visual analogue scale cannot be printed"
        else:
            reason = "has neither fixed nor free answers and cannot be printed"
        self.warnings.append(f"question {ref} {reason}; left out")

    # Helpers that need the document's state

    def label(self, text: str) -> Label:
        return Label.of(text, self.lang)

    def anchor(self, key: str) -> None:
        self.anchors.setdefault(key, len(self.items))

    def _var(self, element: Element, where: str) -> str:
        name = (element.get("varName") or "").strip()
        if not name:
            raise TemplateError(f"template {self.source}: {where} has no varName")
        if any(c.isspace() for c in name):
            raise TemplateError(f"template {self.source}: {where}: varName '{name}' has spaces")
        return name

    def _set_name(self, names: list[str]) -> str:
        """LimeSurvey names options QCODE_SQ001, QCODE_SQ002...: the question is QCODE."""
        prefix = _common_prefix(names)
        if "_" in prefix:
            prefix = prefix[: prefix.rindex("_")]
        prefix = prefix.rstrip("_.-")
        if prefix and prefix not in self.var_names:
            return prefix
        return f"{names[0]}_set"

    def _hint(self, element: Element, ref: str) -> str:
        parts = [_texts(element, "specifier"), _texts(element, "qualifier")]
        for directive in element.findall("directive"):
            text = _texts(directive, "text")
            if text and self._for_respondent(directive, f"question {ref}"):
                parts.append(text)
        return " ".join(p for p in parts if p)

    def _for_respondent(self, element: Element, where: str) -> bool:
        """A paper form is self-completed: instructions meant for an interviewer stay off it."""
        if _text_of(element.find("administration")) != "interviewer":
            return True
        self.warnings.append(f"{where}: an interviewer instruction is not printed on a "
                             "self-completion form; left out")
        return False

    def _with_skips(self) -> tuple[Item, ...]:
        routes: dict[tuple[str, str], str] = {}
        for skip in self.skips:
            target = self._target(skip.target)
            if target is None:
                self.warnings.append(f"question {skip.ref}: skipTo {skip.target} of choice "
                                     f"'{skip.choice}' matches no question; printed without a "
                                     "routing instruction")
            else:
                routes[(skip.question, skip.choice)] = target
        items: list[Item] = []
        for item in self.items:
            if isinstance(item, Question) and item.is_choice:
                choices = tuple(replace(c, route_to=routes.get((item.name, c.name), c.route_to))
                                for c in item.choices)
                item = replace(item, choices=choices)
            items.append(item)
        return tuple(items)

    def _target(self, key: str) -> str | None:
        """The first printed question from where the target starts; a left-out one passes on."""
        index = self.anchors.get(key)
        if index is None:
            return END if key.lower() == "end" else None
        for item in self.items[index:]:
            if isinstance(item, Grid) or (isinstance(item, Question) and not item.other_of):
                return item.name
        return END


def _kind(response: Element) -> str:
    for kind in ("fixed", "free", "vas", "dvas"):
        if response.find(kind) is not None:
            return kind
    return ""


def _only_category(response: Element) -> Element | None:
    fixed = response.find("fixed")
    categories = fixed.findall("category") if fixed is not None else []
    return categories[0] if len(categories) == 1 else None


def _skip_target(category: Element) -> str:
    # Early LimeSurvey exports wrote the element as quexml_skipto.
    for tag in ("skipTo", "quexml_skipto"):
        target = (category.findtext(tag) or "").strip()
        if target:
            return target
    return ""


def _ref(question: Element, number: int) -> str:
    """How warnings name a question: its first varName, else its id, else its number."""
    for tag in ("response", "subQuestion"):
        for element in question.findall(tag):
            if element.get("varName"):
                return str(element.get("varName"))
    return question.get("id") or f"number {number}"


def _text_shape(fmt: str, length: int | None) -> tuple[int, int]:
    """(lines, cells) of a text answer: queXML's longtext length is a height in mm."""
    if fmt == "longtext":
        lines = _clamp(math.ceil(length / MM_PER_LINE), 1, MAX_LINES) if length else 4
        return lines, 0
    if length is None:
        return SHORT_TEXT_LINES, 0
    if length <= MAX_TEXT_CELLS:
        return 4, length
    return _clamp(math.ceil(length / CHARS_PER_LINE), 1, MAX_LINES), 0


def _length(element: Element) -> int | None:
    raw = (element.findtext("length") or "").strip()
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value > 0 else None


def _organisation(root: Element) -> str:
    for tag in ("investigator", "dataCollector"):
        for person in root.findall(tag):
            organisation = _texts(person, "organisation")
            if organisation:
                return organisation
    return ""


def _returns(root: Element, lang: str) -> ReturnInfo:
    """The data collector receives the completed forms, so its address is the return address.

    Its telephone number is not taken as the helpline: forms print the helpline as free to call,
    which nothing in queXML says this number is.
    """
    for collector in root.findall("dataCollector"):
        address = collector.find("address")
        lines = [_texts(collector, "organisation")]
        if address is not None:
            lines += [_texts(address, "street"),
                      " ".join(t for t in (_texts(address, "suburb"),
                                           _texts(address, "postcode")) if t),
                      _texts(address, "country")]
        if address is not None:
            return ReturnInfo(address=Label.of("\n".join(line for line in lines if line), lang))
    return ReturnInfo()


def _texts(parent: Element, tag: str) -> str:
    """Repeated text elements are lines (LimeSurvey splits question text at <br />)."""
    return "\n".join(t for t in (_text_of(e) for e in parent.findall(tag)) if t)


def _text_of(element: Element | None) -> str:
    """Plain text: LimeSurvey leaves some HTML (<p>, <b>, entities) inside the text."""
    if element is None:
        return ""
    text = HTML_BREAK.sub("\n", "".join(element.itertext()))
    text = html.unescape(HTML_TAG.sub("", text))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _common_prefix(names: list[str]) -> str:
    first, last = min(names), max(names)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


