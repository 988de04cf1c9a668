"""Every language and script a form carries: labels print shaped, in order, inside the margins,
and a simulated return of each script's form reads back to the simulator's truth."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from reportlab.pdfbase import pdfmetrics

from pipeline.errors import MissingProgramError
from pipeline.forms import style
from pipeline.forms.blocks import width_of, wrap
from pipeline.forms.layout import A4, MARGIN, LayoutOptions, plan_form
from pipeline.forms.phrases import catalogue_language, catalogue_languages, keys, phrase
from pipeline.forms.render import ADDRESS_WINDOW
from pipeline.forms.sources import load_questionnaire
from pipeline.forms.style import BOLD, MM, REGULAR, ensure_fonts
from pipeline.forms.template_xlsform import _language_code
from pipeline.forms.typeset import is_rtl_language, visual_runs
from pipeline.publish import build_forms
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.workspace import Workspace

from .conftest import PROJECT
from .reading_back import read_back

FORMS = PROJECT.parent / "shared" / "xlsforms" / "forms"
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                     reason="poppler-utils is not installed")

# Small forms in each script: (code, header name, title, questions, choices), the questions as
# (type, name, label) and the choices as (list, name, label).
ARABIC = ("ar", "Arabic (ar)", "استبيان رضا السكان", [
    ("select_one yesno", "resident", "هل تسكن في هذا الحي؟"),
    ("integer", "age", "ما هو عمرك؟ (بالسنوات)"),
    ("select_multiple services", "services", "ما هي الخدمات التي تستخدمها؟"),
    ("date", "arrived", "متى وصلت إلى هنا؟"),
], [("yesno", "yes", "نعم"), ("yesno", "no", "لا"),
    ("services", "water", "مياه الشرب"), ("services", "health", "المركز الصحي"),
    ("services", "school", "المدرسة"), ("services", "market", "السوق")])
HINDI = ("hi", "Hindi (hi)", "स्वास्थ्य सर्वेक्षण", [
    ("select_one yesno", "insured", "क्या आपके पास स्वास्थ्य बीमा है?"),
    ("integer", "age", "आपकी उम्र क्या है?"),
    ("select_multiple services", "services", "आप कौन सी सेवाएँ इस्तेमाल करते हैं?"),
], [("yesno", "yes", "हाँ"), ("yesno", "no", "नहीं"),
    ("services", "clinic", "क्लिनिक"), ("services", "hospital", "अस्पताल"),
    ("services", "pharmacy", "दवा की दुकान")])
AMHARIC = ("am", "Amharic (am)", "የቤተሰብ ጥናት", [
    ("select_one yesno", "school", "ልጆችዎ ትምህርት ቤት ይሄዳሉ?"),
    ("integer", "members", "በቤትዎ ስንት ሰዎች ይኖራሉ?"),
    ("select_multiple water", "water", "የመጠጥ ውሃ ከየት ያገኛሉ?"),
], [("yesno", "yes", "አዎ"), ("yesno", "no", "አይ"),
    ("water", "tap", "የቧንቧ ውሃ"), ("water", "well", "የጉድጓድ ውሃ"), ("water", "river", "ወንዝ")])
CHINESE = ("zh", "Chinese (zh)", "社区服务调查", [
    ("select_one yesno", "resident", "您是否居住在本社区？"),
    ("integer", "age", "您今年多大年纪？"),
    ("select_multiple services", "services", "您使用过哪些社区服务？请选择所有适用的选项。"),
], [("yesno", "yes", "是"), ("yesno", "no", "否"),
    ("services", "library", "图书馆"), ("services", "clinic", "社区诊所"),
    ("services", "park", "公园")])
ENGLISH = {"resident": "Do you live in this neighbourhood?", "age": "How old are you?",
           "services": "Which services do you use?", "arrived": "When did you arrive here?",
           "yes": "Yes", "no": "No", "water": "Drinking water", "health": "Health centre",
           "school": "School", "market": "Market", "title": "Residents' survey"}

Script = tuple[str, str, str, list[tuple[str, str, str]], list[tuple[str, str, str]]]


def _write_form(path: Path, script: Script, with_english: bool = False) -> Path:
    """An XLSForm in one language (and English beside it), as a person writes one."""
    code, header, title, questions, choices = script
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    survey = workbook.create_sheet("survey")
    english = ["label::English (en)"] if with_english else []
    survey.append(["type", "name", f"label::{header}", *english])
    for kind, name, label in questions:
        survey.append([kind, name, label, *([ENGLISH[name]] if with_english else [])])
    sheet = workbook.create_sheet("choices")
    sheet.append(["list_name", "name", f"label::{header}", *english])
    for list_name, name, label in choices:
        sheet.append([list_name, name, label, *([ENGLISH[name]] if with_english else [])])
    settings = workbook.create_sheet("settings")
    settings.append(["form_title", "form_id", "default_language"])
    settings.append([title, f"survey_{code}", header])
    workbook.save(path)
    return path


def _pdf_text(pdf: Path) -> str:
    """The text pdftotext extracts, in NFC, without the line breaks wrapping put in.

    Shaped runs carry their characters as ActualText, in logical order as the PDF standard says.
    pdftotext spreads those characters over the run's glyphs as if they were drawn left to right
    and then, seeing right-to-left letters, reverses them to what it takes for reading order,
    marking the span with RLE ... PDF (U+202B ... U+202C). Reversing each marked span undoes that
    one step and gives back exactly the characters papertwin wrote.
    """
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    out = re.sub("\u202b([^\u202c]*)\u202c", lambda m: m[1][::-1], out)
    return unicodedata.normalize("NFC", " ".join(out.split()))


def _found(label: str, text: str) -> bool:
    """The label in the extracted text; for a right-to-left label mixed with brackets, its words.

    A line mixing Arabic with brackets is drawn as several runs (the brackets in DejaVu Sans), and
    pdftotext orders such runs by its own reading of the line, not the label's: so each word is
    looked for, and must be found whole (shaped words come back letter for letter).
    """
    label = unicodedata.normalize("NFC", label)
    if label in text:
        return True
    words = [w.strip("()[]?؟.,:") for w in label.split()]
    return is_rtl_language("", label) and all(w in text for w in words if w)


def _label_texts(script: Script) -> list[str]:
    return [label for _, _, label in script[3]] + [label for _, _, label in script[4]]


def _text_positions(pdf: Path) -> list[tuple[float, float, str]]:
    """Every word's left and right edge, from pdftotext's bounding boxes."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return [(float(m[1]), float(m[2]), m[3]) for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', html)]


def _margins_kept(pdf: Path) -> None:
    """No word crosses the side margins (the corner marks' column aside: nothing prints there)."""
    for left, right, word in _text_positions(pdf):
        assert left >= MARGIN - 1 and right <= A4[0] - MARGIN + 1, (word, left, right)


# Fixed texts from gettext catalogues


def test_english_and_welsh_catalogues_translate_every_phrase() -> None:
    assert {"en", "cy"} <= set(catalogue_languages())
    values = {"n": "7", "m": "9", "date": "1 May", "number": "0800", "name": "Ann",
              "condition": "C1", "choices": "‘X’", "comparison": "K2", "v": "16",
              "a": "A1", "b": "B1", "serial": "000123"}
    for key in keys():
        english, welsh = phrase(key, "en", **values), phrase(key, "cy", **values)
        assert english and welsh and english != welsh, key
        for value in values.values():  # every placeholder kept
            assert (value in english) == (value in welsh), (key, value)
    assert phrase("page", "cy", n="2", m="5") == "Tudalen 2 o 5"
    assert phrase("go_to", "en", n="4") == "Go to question 4"


def test_a_language_without_catalogue_prints_english_fixed_texts() -> None:
    assert catalogue_language("de") is None
    assert catalogue_language("cy_GB") == "cy"
    assert phrase("tick_one", "de") == "Please tick one box."
    with pytest.raises(KeyError):
        phrase("no_such_phrase", "en")


def test_language_names_map_to_codes() -> None:
    names = {"English (en)": "en", "English": "en", "english": "en", "Deutsch (de)": "de",
             "French": "fr", "Arabic": "ar", "Swahili": "sw", "chinese": "zh", "Amharic": "am",
             "Oromiffa": "om", "Tigirigna": "ti", "spanish": "es", "Cymraeg": "cy",
             "Welsh": "cy", "Deutsch": "de", "Hindi": "hi", "Odia": "or",
             "Chinese (Simplified)": "zh_Hans", "Klingon-ish": "klingon-ish"}
    assert {name: _language_code(name) for name in names} == names
    assert is_rtl_language("ar") and is_rtl_language("ur") and not is_rtl_language("de")


# Shaping, order and measuring


def test_a_missing_script_font_names_the_package_to_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ensure_fonts()
    monkeypatch.setattr(style, "SCRIPT_FONT_DIRS", (tmp_path,))
    with pytest.raises(MissingProgramError, match="apt-get install fonts-noto-core"):
        visual_runs("ភាសាខ្មែរ", REGULAR)  # Khmer: no other test prints it
    assert "PapertwinKhmer" not in pdfmetrics.getRegisteredFontNames()


def test_runs_choose_the_script_font_and_put_right_to_left_text_in_order() -> None:
    ensure_fonts()
    assert visual_runs("Age 25", REGULAR)[0].font == REGULAR  # DejaVu, as before
    runs = visual_runs("Age / العمر", REGULAR)
    assert [(r.text, r.font, r.rtl) for r in runs] == [
        ("Age / ", REGULAR, False), ("العمر", "PapertwinArabic", True)]
    # an Arabic sentence: its start is drawn rightmost, brackets mirrored back for HarfBuzz
    runs = visual_runs("ما هو عمرك؟ (بالسنوات)", BOLD)
    assert runs[-1].text == "ما هو عمرك؟" and runs[-1].font == "PapertwinArabic-Bold"
    assert [r.font for r in visual_runs("आपकी उम्र", REGULAR)] == ["PapertwinDevanagari"]
    assert [r.font for r in visual_runs("የቤተሰብ ጥናት", REGULAR)] == ["PapertwinEthiopic"]
    assert [r.font for r in visual_runs("社区服务调查", REGULAR)] == ["PapertwinCJK"]
    assert [(r.font, r.rtl) for r in visual_runs("آپ کی عمر کیا ہے؟", REGULAR)] == [
        ("PapertwinArabic", True)]  # Urdu
    assert [r.font for r in visual_runs("ଆପଣଙ୍କ ବୟସ କେତେ?", REGULAR)] == ["PapertwinOriya"]


def test_shaped_text_is_measured_as_drawn_and_wrapped_inside_the_width() -> None:
    ensure_fonts()
    # Devanagari conjuncts print narrower than their letters one by one
    word = "स्वास्थ्य"
    assert width_of(word, REGULAR, 12) < sum(width_of(c, REGULAR, 12) for c in word)
    text = "您使用过哪些社区服务？请选择所有适用的选项。" * 3
    lines = wrap(text, REGULAR, 11, 120)
    assert len(lines) > 3 and "".join(lines) == text  # CJK breaks between characters
    assert all(width_of(line, REGULAR, 11) <= 120 for line in lines)
    assert not any(line.startswith(("？", "。")) for line in lines)
    arabic = " ".join(["المركز الصحي"] * 12)
    lines = wrap(arabic, REGULAR, 11, 150)
    assert len(lines) > 1 and " ".join(lines) == arabic
    assert all(width_of(line, REGULAR, 11) <= 150 for line in lines)


# Whole forms, per script


@needs_pdftotext
@pytest.mark.parametrize("script", [ARABIC, HINDI, AMHARIC, CHINESE],
                         ids=["arabic", "hindi", "amharic", "chinese"])
def test_each_script_prints_its_labels_inside_the_margins(tmp_path: Path,
                                                          script: Script) -> None:
    template = _write_form(tmp_path / f"{script[0]}.xlsx", script)
    built = build_forms(template, 1, tmp_path / "form", Workspace.resolve(tmp_path / "ws"))
    pdf = built.pdf_paths[0]
    text = _pdf_text(pdf)
    for label in [script[2], *_label_texts(script)]:
        assert _found(label, text), label
    _margins_kept(pdf)
    warnings = [w for w in built.warnings if "no catalogue" in w]
    assert len(warnings) == 1 and f"no catalogue for {script[0]}" in warnings[0]


def test_arabic_form_is_mirrored_with_boxes_on_the_right(tmp_path: Path) -> None:
    template = _write_form(tmp_path / "ar.xlsx", ARABIC, with_english=True)
    arabic = plan_form(load_questionnaire(template).questionnaire)
    english = plan_form(load_questionnaire(template).questionnaire,
                        LayoutOptions(languages=("en",)))
    assert arabic.right_to_left and not english.right_to_left
    ar_boxes = {(f.question, f.value, f.index): f.box
                for p in arabic.layout.pages for f in p.fields}
    en_boxes = {(f.question, f.value, f.index): f.box
                for p in english.layout.pages for f in p.fields}
    assert ar_boxes.keys() == en_boxes.keys()
    for key, box in ar_boxes.items():
        if key[2] is None:  # tick boxes: mirrored about the page's centre, so on the right
            assert box == (round(A4[0] - en_boxes[key][2], 2), en_boxes[key][1],
                           round(A4[0] - en_boxes[key][0], 2), en_boxes[key][3]), key
            assert box[0] > A4[0] / 2, key
    for question in ("age", "arrived"):  # combs move across whole: digits go left to right
        ar_cells = [ar_boxes[k] for k in sorted(k for k in ar_boxes if k[0] == question)]
        en_cells = [en_boxes[k] for k in sorted(k for k in en_boxes if k[0] == question)]
        assert len(ar_cells) == len(en_cells) > 1
        assert [b[0] for b in ar_cells] == sorted(b[0] for b in ar_cells)  # index 0 leftmost
        assert ar_cells[-1][2] == round(A4[0] - en_cells[0][0], 2)  # ends where English starts
        shift = ar_cells[0][0] - en_cells[0][0]
        assert all(abs(a[0] - e[0] - shift) < 0.02 for a, e in zip(ar_cells, en_cells, strict=True))
    texts = [op for op in arabic.pages[0].ops if getattr(op, "text", "") == ARABIC[3][0][2]]
    assert texts and texts[0].align == "right" and texts[0].x > A4[0] / 2
    both = plan_form(load_questionnaire(template).questionnaire,
                     LayoutOptions(languages=("ar", "en")))
    assert both.right_to_left and both.layout.form_key != arabic.layout.form_key
    instructions = [op for op in both.pages[0].ops
                    if getattr(op, "text", "").startswith("If you make a mistake")]
    assert len(instructions) == 1  # the English fallback for ar is not printed twice


@needs_pdftotext
def test_german_only_form_prints_with_english_fixed_texts_and_one_warning(
        tmp_path: Path) -> None:
    source = FORMS / "correlaid_testB.xlsx"
    if not source.is_file():
        pytest.skip("the shared real-world XLSForms are not present")
    built = build_forms(source, 1, tmp_path / "form", Workspace.resolve(tmp_path / "ws"),
                        LayoutOptions(languages=("de",)))
    assert [w for w in built.warnings if "no catalogue" in w] == [
        "papertwin's own texts (instructions, page numbers, routing) print in English on the de "
        "form: there is no catalogue for de; a translator adds one as "
        "pipeline/forms/locale/de/LC_MESSAGES/papertwin.po (see docs/template-format.md)"]
    text = _pdf_text(built.pdf_paths[0])
    questionnaire = built.layout.questionnaire
    assert questionnaire.languages[0] == "de"
    printed = {f.question for page in built.layout.pages for f in page.fields}
    assert len(printed) > 10
    for question in questionnaire.questions:
        if question.name in printed and not question.other_of:  # "specify": a prompt only
            label = question.label.text("de")
            assert " ".join(label.split()) in text, label
    assert "Please tick one box." in text and "Page 1 of" in text
    _margins_kept(built.pdf_paths[0])


@needs_pdftotext
def test_chinese_labels_of_a_real_form_print(tmp_path: Path) -> None:
    source = FORMS / "pyx_spec_test.xlsx"
    if not source.is_file():
        pytest.skip("the shared real-world XLSForms are not present")
    workbook = openpyxl.load_workbook(source)
    workbook["settings"]["B2"] = "spec_test"  # its form id has a space, which papertwin refuses
    assert workbook["survey"]["B55"].value == "=FALSE()"
    workbook["survey"].delete_rows(55)  # a row named "=FALSE()": not this test's concern
    template = tmp_path / "spec_test.xlsx"
    workbook.save(template)
    built = build_forms(template, 1, tmp_path / "form", Workspace.resolve(tmp_path / "ws"),
                        LayoutOptions(languages=("zh", "en")))
    text = _pdf_text(built.pdf_paths[0])
    for label in ("您好", "是", "没有"):
        assert label in text, label
    _margins_kept(built.pdf_paths[0])


@pytest.mark.slow
@pytest.mark.parametrize("script", [ARABIC, HINDI, AMHARIC, CHINESE],
                         ids=["arabic", "hindi", "amharic", "chinese"])
def test_a_simulated_return_reads_back_in_every_script(tmp_path: Path, script: Script) -> None:
    template = _write_form(tmp_path / f"{script[0]}.xlsx", script)
    built = build_forms(template, 2, tmp_path / "form", Workspace.resolve(tmp_path / "ws"))
    batch = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=5)
    truth = json.loads(batch.truth_path.read_text())["responses"]
    layout = built.layout
    read = read_back(batch, layout)
    checked = 0
    for copy, response in zip(layout.copies, truth, strict=True):
        for question in layout.questionnaire.questions:
            expected = truth_value(response["answers"][question.name])
            value, flagged = read[(copy.serial, question.name)]
            if question.is_choice:
                assert (value, flagged) == (expected, False), question.name
                checked += 1
            else:  # handwritten digits: read, or sent to review, never wrong unflagged
                assert value == expected or flagged, (question.name, value, expected)
    assert checked == 2 * sum(q.is_choice for q in layout.questionnaire.questions)


def test_shaped_forms_print_byte_identical(tmp_path: Path) -> None:
    """HarfBuzz's glyphs without a character of their own get codes in order of use: the same
    form gives the same bytes, whatever was printed before it in the process."""
    hindi = _write_form(tmp_path / "hi.xlsx", HINDI)
    first = build_forms(hindi, 1, tmp_path / "a", Workspace.resolve(tmp_path / "wa"))
    _ = build_forms(_write_form(tmp_path / "ar.xlsx", ARABIC), 1, tmp_path / "b",
                    Workspace.resolve(tmp_path / "wb"))
    again = build_forms(hindi, 1, tmp_path / "c", Workspace.resolve(tmp_path / "wc"))
    assert first.pdf_path.read_bytes() == again.pdf_path.read_bytes()


def test_characters_no_font_has_are_warned_of(tmp_path: Path) -> None:
    tibetan = ("bo", "Tibetan (bo)", "Survey", [("select_one yesno", "school", "Tashi བོད")],
               [("yesno", "yes", "Yes"), ("yesno", "no", "No")])
    plan = plan_form(load_questionnaire(_write_form(tmp_path / "bo.xlsx", tibetan)).questionnaire)
    assert [w for w in plan.warnings if "empty boxes" in w] == [
        "question 1 (school): no font papertwin prints with has the characters 'བ' (U+0F56), "
        "'ད' (U+0F51): they print as empty boxes: replace them, or write them out in words"]
    assert not [w for w in plan_form(load_questionnaire(
        _write_form(tmp_path / "ar.xlsx", ARABIC)).questionnaire).warnings if "empty" in w]


@needs_pdftotext
def test_an_arabic_cover_letter_reads_from_the_right_and_says_things_once(
        tmp_path: Path) -> None:
    template = _write_form(tmp_path / "ar.xlsx", ARABIC, with_english=True)
    recipients = tmp_path / "recipients.csv"
    recipients.write_text("name,address1,town,postcode\nأحمد علي,12 شارع النخيل,عمان,11118\n",
                          encoding="utf-8")
    built = build_forms(template, None, tmp_path / "form", Workspace.resolve(tmp_path / "ws"),
                        LayoutOptions(languages=("ar", "en")), recipients)
    letter = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox", str(built.pdf_path),
                             "-"], check=True, capture_output=True, text=True).stdout
    assert letter.count(">enclosed<") == 1  # ar's English fallback and en: one paragraph
    words = {m[3]: (float(m[1]), float(m[2])) for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
        letter)}
    assert abs(words["about:"][1] - (A4[0] - MARGIN)) < 1  # the letter is aligned right
    assert abs(words["11118"][1] - (ADDRESS_WINDOW[2] - 2 * MM)) < 1  # the address too
