"""Cover letters, postal settings and duplex printing, checked on the printed PDF.

Positions come from pdftotext's word boxes (points from the top left), as in printed_geometry.
"""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import cv2
import img2pdf
import numpy as np
import openpyxl
import pytest
from PIL import Image

from pipeline.errors import TemplateError
from pipeline.forms.build import preview_form
from pipeline.forms.layout import A4, MARGIN, LayoutOptions
from pipeline.forms.letter import MIN_ADDRESS_SIZE
from pipeline.forms.render import ADDRESS_WINDOW
from pipeline.forms.sources import load_questionnaire
from pipeline.ingest.batch import read_chunk
from pipeline.model import Label, Questionnaire
from pipeline.programs.poppler import rasterise_page
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings
from pipeline.simulate.returns import simulate_returns
from pipeline.workspace import Workspace
from tests.ingesting import ingest_without_flow
from tests.printed_geometry import SLACK, Word, words

TEMPLATES = Path(__file__).resolve().parent.parent / "form_templates"
LONG_NAME = "Professor Dame Angharad Gwenllian Llewellyn-Fitzgerald-Pryce OBE"
LONG_LINES = ("Flat 14B The Old Woollen Mill Conversion",
              "Lower Llanfihangel-yng-Ngwynfa Industrial Estate Access Road",
              "Llanfihangel-yng-Ngwynfa", "Powys", "SY22 5JD")
PRINTED_ON = date(2026, 11, 30)
COUNCIL_YAML = """\
id: bus_review
languages: [en, cy]
title: {en: "Millbrook bus network review", cy: "Adolygiad rhwydwaith bysiau Millbrook"}
organisation: {en: "Millbrook District Council", cy: "Cyngor Dosbarth Millbrook"}
intro:
  en: |
    We are reviewing the bus routes that serve Millbrook and the villages around it, and we want
    to hear from the people who use them, and from those who would use them if they were better.

    Your answers are confidential and will be used only to plan the bus network.
  cy: |
    Rydym yn adolygu'r llwybrau bysiau sy'n gwasanaethu Millbrook a'r pentrefi o'i chwmpas, ac
    rydym am glywed gan y bobl sy'n eu defnyddio, a chan y rhai a fyddai'n eu defnyddio pe
    baent yn well.

    Mae eich atebion yn gyfrinachol a byddant yn cael eu defnyddio i gynllunio'r rhwydwaith
    bysiau yn unig.
returns:
  closing_date: 2027-03-31
  address: |
    Freepost MILLBROOK BUS REVIEW
    Town Hall, Millbrook MB1 1AA
  helpline: "0800 123 4567"
sender: {en: "Jane Smith, Head of Transport", cy: "Jane Smith, Pennaeth Trafnidiaeth"}
logo: crest.png
items:
  - name: use_bus
    type: select_one
    label: {en: "Do you use the bus?", cy: "Ydych chi'n defnyddio'r bws?"}
    choices:
      - {name: "yes", label: {en: "Yes", cy: "Ydw"}}
      - {name: "no", label: {en: "No", cy: "Nac ydw"}}
"""


def _logo(path: Path) -> Path:
    image = Image.new("RGB", (240, 160), "white")
    image.paste((20, 80, 140), (20, 20, 220, 140))
    image.save(path)
    return path


def _council(tmp_path: Path) -> Path:
    _logo(tmp_path / "crest.png")
    path = tmp_path / "council.yaml"
    path.write_text(COUNCIL_YAML, encoding="utf-8")
    return path


def _recipients(tmp_path: Path, *rows: tuple[str, ...]) -> Path:
    path = tmp_path / "recipients.csv"
    lines = ["name,address1,address2,address3,address4,address5"]
    lines += [",".join(f'"{cell}"' for cell in (*row, *[""] * (6 - len(row)))) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _letter_words(pdf: Path, page: int) -> list[Word]:
    return [w for w in words(pdf) if w.page == page]


def _inside(box: tuple[float, float, float, float], area: tuple[float, float, float, float]
            ) -> bool:
    return (area[0] - SLACK <= box[0] and box[2] <= area[2] + SLACK
            and area[1] - SLACK <= box[1] and box[3] <= area[3] + SLACK)


# The letter's geometry


@pytest.mark.parametrize("languages", [("en",), ("cy",), ("cy", "en")])
@pytest.mark.parametrize("large_print", [False, True])
def test_the_letter_fits_its_window_and_margins_for_long_names_and_addresses(
        tmp_path: Path, languages: tuple[str, ...], large_print: bool) -> None:
    recipients = _recipients(tmp_path, (LONG_NAME, *LONG_LINES),
                             ("Mrs Ann Jones", "12 Mill Lane", "Millbrook", "MB1 2AB"))
    built = build_forms(_council(tmp_path), None, tmp_path / "out",
                        Workspace.resolve(tmp_path / "ws"),
                        LayoutOptions(languages=languages, large_print=large_print),
                        recipients, printed_on=PRINTED_ON)
    layout = built.layout
    per_copy = layout.pages_per_copy
    assert layout.letter_pages >= 1
    printed = list(words(built.pdf_path))
    assert max(w.page for w in printed) == 2 * per_copy
    width, height = A4
    for word in printed:  # nothing past a margin, on any page of the run
        assert word.box[0] >= MARGIN - SLACK and word.box[2] <= width - MARGIN + SLACK, word
        assert word.box[1] >= 0 and word.box[3] <= height, word
    for copy, (name, lines) in enumerate([(LONG_NAME, LONG_LINES),
                                          ("Mrs Ann Jones", ("12 Mill Lane", "MB1 2AB"))]):
        first = [w for w in printed if w.page == copy * per_copy + 1]
        # Every word of the name and address is printed inside the window, and nothing else
        # that lies level with the window's left part strays out of it.
        in_window = [w for w in first if _inside(w.box, ADDRESS_WINDOW)]
        window_text = " ".join(w.text for w in in_window)
        for token in " ".join((name, *lines)).split():
            assert token in window_text.split(), (token, window_text)
        beside = [w for w in first if w.box[0] < ADDRESS_WINDOW[2]
                  and ADDRESS_WINDOW[1] - 20 < w.box[1] < ADDRESS_WINDOW[3] + 5]
        assert all(_inside(w.box, ADDRESS_WINDOW) for w in beside), beside
        # A salutation per language, each on lines of its own, in the order given, wrapped
        # within the margins however long the name.
        letter = [w for w in printed if copy * per_copy < w.page <= copy * per_copy
                  + layout.letter_pages]
        greetings = {"en": "Dear", "cy": "Annwyl"}
        starts = [next(w for w in letter if w.text == greetings[lang]) for lang in languages]
        assert [s.page * height + s.box[1] for s in starts] == sorted(
            s.page * height + s.box[1] for s in starts)
        for start in starts:
            after = [w for w in letter if (w.page, w.box[1]) >= (start.page, start.box[1] - 1)]
            line = sorted((w for w in after if abs(w.box[1] - start.box[1]) < 1),
                          key=lambda w: w.box[0])
            assert line[0] is start  # the salutation begins its line
            salutation = [w.text for w in sorted(after, key=lambda w: (w.page, w.box[1],
                                                                        w.box[0]))]
            expected = f"{greetings['en' if start.text == 'Dear' else 'cy']} {name},".split()
            assert salutation[:len(expected)] == expected
    long_salutation = [w for w in printed if w.page <= layout.letter_pages and w.text == "OBE,"]
    assert len(long_salutation) == len(languages)
    if large_print:  # 16 pt: the long name's salutation takes two lines
        dear = [w for w in printed if w.page == 1 and w.text in ("Dear", "Annwyl")]
        assert all(o.box[1] > d.box[1] + 10 for o, d in zip(long_salutation, dear, strict=True))


def test_the_letter_has_letterhead_date_body_and_signature_in_each_language(
        tmp_path: Path) -> None:
    recipients = _recipients(tmp_path, ("Mrs Ann Jones", "12 Mill Lane", "MB1 2AB"))
    built = build_forms(_council(tmp_path), None, tmp_path / "out",
                        Workspace.resolve(tmp_path / "ws"), LayoutOptions(languages=("cy", "en")),
                        recipients, printed_on=PRINTED_ON)
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(built.pdf_path), "-"],
                          capture_output=True, text=True, check=True).stdout
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for expected in ("Cyngor Dosbarth Millbrook", "Millbrook District Council",
                     "Llinell gymorth: 0800 123 4567", "Helpline: 0800 123 4567",
                     "30 Tachwedd 2026", "30 November 2026", "Ein cyfeirnod: 000001",
                     "Our reference: 000001", "Annwyl Mrs Ann Jones,", "Dear Mrs Ann Jones,",
                     "Adolygiad rhwydwaith bysiau Millbrook", "Millbrook bus network review",
                     "Yn gywir,", "Yours sincerely,", "Jane Smith, Pennaeth Trafnidiaeth",
                     "Jane Smith, Head of Transport"):
        assert expected in lines, expected
    assert "Dychwelwch yr holiadur erbyn 31 Mawrth 2027 yn yr amlen a ddarparwyd." in text
    assert "Please return the questionnaire by 31 March 2027 in the envelope provided." in text
    assert lines.index("Annwyl Mrs Ann Jones,") < lines.index("Dear Mrs Ann Jones,")
    assert lines.index("Yn gywir,") < lines.index("Yours sincerely,")
    assert built.layout.letter_pages == 1  # the bilingual letter fits one page in standard print
    images = subprocess.run(["pdfimages", "-f", "1", "-l", "1", "-list", str(built.pdf_path)],
                            capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 3  # header, rule and the logo


def test_a_recipient_whose_address_cannot_fit_is_named_and_cut_off_inside_the_window(
        tmp_path: Path) -> None:
    crowded = ("Mr Owain Glyndwr Llewellyn-Fitzgerald-Pryce-Vaughan-Williams-Jones",
               *(f"The Very Long Building Name Number {n} On The Old Industrial Estate Road"
                 for n in range(1, 7)))
    recipients = _recipients(tmp_path, ("Mrs Ann Jones", "12 Mill Lane"), crowded)
    built = build_forms(_council(tmp_path), None, tmp_path / "out",
                        Workspace.resolve(tmp_path / "ws"), recipients_file=recipients)
    assert [w for w in built.warnings if "envelope window" in w] == [
        f"recipient list line 3, serial 000002: the name and address do not fit the envelope "
        f"window even at {MIN_ADDRESS_SIZE:g} pt: 8 of their 13 lines (wrapped to the window) "
        "print, the rest are left off: shorten the address lines or use fewer of them"]
    per_copy = built.layout.pages_per_copy
    letter = [w for w in words(built.pdf_path) if w.page == per_copy + 1]
    near = [w for w in letter
            if w.box[0] < ADDRESS_WINDOW[2] and w.box[1] < ADDRESS_WINDOW[3] + 10]
    assert near and all(_inside(w.box, ADDRESS_WINDOW) for w in near)


# Postal settings


def _bilingual_xlsform(path: Path, settings: dict[str, str]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    survey = workbook.create_sheet("survey")
    survey.append(["type", "name", "label::English (en)", "label::Welsh (cy)"])
    survey.append(["select_one yn", "use_bus", "Do you use the bus?",
                   "Ydych chi'n defnyddio'r bws?"])
    choices = workbook.create_sheet("choices")
    choices.append(["list_name", "name", "label::English (en)", "label::Welsh (cy)"])
    choices.append(["yn", "yes", "Yes", "Ydw"])
    choices.append(["yn", "no", "No", "Nac ydw"])
    sheet = workbook.create_sheet("settings")
    sheet.append(list(settings))
    sheet.append(list(settings.values()))
    workbook.save(path)
    return path


POSTAL = {
    "form_id": "bus_review", "default_language": "English (en)",
    "form_title": "Millbrook bus network review",
    "papertwin::title::Welsh (cy)": "Adolygiad rhwydwaith bysiau Millbrook",
    "papertwin::organisation": "Millbrook District Council",
    "papertwin::organisation::Welsh (cy)": "Cyngor Dosbarth Millbrook",
    "papertwin::introduction": "We want to hear from you.\nIt takes ten minutes.",
    "papertwin::introduction::Welsh (cy)": "Rydym am glywed gennych.\nMae'n cymryd deg munud.",
    "papertwin::return_address": "Freepost MILLBROOK BUS REVIEW\nTown Hall",
    "papertwin::return_address::Welsh (cy)": "Rhadbost ADOLYGIAD BYSIAU MILLBROOK\nNeuadd y Dref",
    "papertwin::closing_date": "31 March 2027",
    "papertwin::closing_date::Welsh (cy)": "31 Mawrth 2027",
    "papertwin::helpline": "0800 123 4567",
    "papertwin::helpline::Welsh (cy)": "0800 765 4321",
    "papertwin::sender": "Jane Smith, Head of Transport",
    "papertwin::sender::Welsh (cy)": "Jane Smith, Pennaeth Trafnidiaeth",
    "papertwin::logo": "crest.png",
    "papertwin::duplex": "yes",
}


def test_xlsform_settings_give_the_postal_texts_in_each_language(tmp_path: Path) -> None:
    _logo(tmp_path / "crest.png")
    loaded = load_questionnaire(_bilingual_xlsform(tmp_path / "bus.xlsx", POSTAL))
    q = loaded.questionnaire
    assert loaded.warnings == ()
    assert q.languages == ("en", "cy")
    assert q.title.to_json() == {"en": "Millbrook bus network review",
                                 "cy": "Adolygiad rhwydwaith bysiau Millbrook"}
    assert q.organisation.text("cy") == "Cyngor Dosbarth Millbrook"
    assert q.intro.text("cy") == "Rydym am glywed gennych.\n\nMae'n cymryd deg munud."
    assert q.returns.address.to_json() == {
        "en": "Freepost MILLBROOK BUS REVIEW\nTown Hall",
        "cy": "Rhadbost ADOLYGIAD BYSIAU MILLBROOK\nNeuadd y Dref"}
    assert q.returns.closing_date.to_json() == {"en": "31 March 2027", "cy": "31 Mawrth 2027"}
    assert q.returns.helpline.text("cy") == "0800 765 4321"
    assert q.sender.text("cy") == "Jane Smith, Pennaeth Trafnidiaeth"
    assert q.printing.logo.text() == str((tmp_path / "crest.png").resolve())
    assert q.printing.duplex is True
    saved = q.to_dict()  # translated texts are saved by language, and load back
    assert saved["returns"]["helpline"] == {"en": "0800 123 4567", "cy": "0800 765 4321"}
    assert Questionnaire.from_dict(saved).returns == q.returns


def test_a_welsh_only_build_prints_the_welsh_title_and_return_block(tmp_path: Path) -> None:
    _logo(tmp_path / "crest.png")
    template = _bilingual_xlsform(tmp_path / "bus.xlsx", POSTAL)
    built = build_forms(template, 1, tmp_path / "out", Workspace.resolve(tmp_path / "ws"),
                        LayoutOptions(languages=("cy",)))
    text = " ".join(subprocess.run(["pdftotext", str(built.pdf_path), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert "Adolygiad rhwydwaith bysiau Millbrook" in text
    assert "Millbrook bus network review" not in text
    assert ("Diolch am gymryd rhan. Dychwelwch yr holiadur hwn erbyn 31 Mawrth 2027 yn yr amlen "
            "a ddarparwyd. Nid oes angen stamp. Y cyfeiriad yw: Rhadbost ADOLYGIAD BYSIAU "
            "MILLBROOK Neuadd y Dref") in text
    assert "0800 765 4321" in text and "0800 123 4567" not in text
    assert "Freepost" not in text and "Thank you" not in text
    # duplex from the settings sheet: one page of questionnaire and a blank back
    assert built.layout.duplex and built.layout.pages_per_copy == 2
    assert "Gadawyd y dudalen hon yn wag yn fwriadol." in text


def test_the_return_block_prints_in_every_language_printed(tmp_path: Path) -> None:
    built = build_forms(_council(tmp_path), 1, tmp_path / "out",
                        Workspace.resolve(tmp_path / "ws"), LayoutOptions(languages=("cy", "en")))
    text = " ".join(subprocess.run(["pdftotext", str(built.pdf_path), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    welsh = text.index("Diolch am gymryd rhan. Dychwelwch yr holiadur hwn erbyn 31 Mawrth 2027")
    english = text.index("Thank you for taking part. Please return this questionnaire by 31 "
                         "March 2027")  # an ISO closing date, written out in each language
    address = text.index("Freepost MILLBROOK BUS REVIEW Town Hall, Millbrook MB1 1AA")
    assert welsh < english < address  # the same address in both: printed once, after both
    assert text.count("Freepost MILLBROOK BUS REVIEW") == 1


def test_a_form_without_a_return_address_warns(tmp_path: Path) -> None:
    settings = {k: v for k, v in POSTAL.items() if "return_address" not in k and "logo" not in k}
    template = _bilingual_xlsform(tmp_path / "bus.xlsx", settings)
    built = build_forms(template, 1, tmp_path / "out", Workspace.resolve(tmp_path / "ws"))
    assert built.warnings == (
        f"template {template}: no return address: respondents will not know where to send the "
        "form; set papertwin::return_address in the settings sheet",)
    plain = tmp_path / "plain.yaml"
    plain.write_text(COUNCIL_YAML.split("returns:")[0] + COUNCIL_YAML.split("logo: crest.png\n")[1])
    yaml_built = build_forms(plain, 1, tmp_path / "out2", Workspace.resolve(tmp_path / "ws"))
    assert yaml_built.warnings == (
        f"template {plain}: no return address: respondents will not know where to send the "
        "form; set returns.address in the template",)
    town = build_forms(TEMPLATES / "town_centre.yaml", 1, tmp_path / "out3",
                       Workspace.resolve(tmp_path / "ws"))
    assert not [w for w in town.warnings if "no return address" in w]


def test_a_logo_that_is_missing_or_no_image_is_refused_naming_it(tmp_path: Path) -> None:
    template = _bilingual_xlsform(tmp_path / "bus.xlsx", POSTAL)
    with pytest.raises(TemplateError, match=r"settings: papertwin::logo: the logo .*crest\.png "
                                            r"does not exist"):
        load_questionnaire(template)
    (tmp_path / "crest.png").write_text("not a picture")
    with pytest.raises(TemplateError, match=r"the logo .*crest\.png is not a PNG or JPEG"):
        load_questionnaire(template)
    Image.new("RGB", (20, 20)).save(tmp_path / "crest.png", format="GIF")
    with pytest.raises(TemplateError, match=r"crest\.png is a GIF image"):
        load_questionnaire(template)


def test_old_saved_models_with_plain_postal_texts_load_and_keep_their_form(tmp_path: Path) -> None:
    saved = {"model": 2, "id": "poll", "version": "1", "languages": ["en", "cy"],
             "title": {"en": "Poll"}, "intro": {}, "organisation": {},
             "returns": {"address": "Freepost POLL\nMillbrook", "closing_date": "1 May 2027",
                         "helpline": ""},
             "items": [{"kind": "note", "name": "n", "label": {"en": "Hello"}}]}
    q = Questionnaire.from_dict(saved)
    assert q.returns.address == Label((("en", "Freepost POLL\nMillbrook"),))
    assert q.returns.address.text("cy") == "Freepost POLL\nMillbrook"
    assert q.to_dict() == saved  # saved as before, so its form key stays the same


# Duplex


def test_duplex_pads_each_addressed_copy_to_whole_sheets(tmp_path: Path) -> None:
    recipients = _recipients(tmp_path, ("Mrs Ann Jones", "12 Mill Lane", "MB1 2AB"),
                             ("Mr Dafydd ap Rhys", "3 Station Road", "MB2 9XY"),
                             ("Ms Carys Evans", "8 Bridge Street", "MB3 4CD"))
    plain = build_forms(TEMPLATES / "quick_poll.yaml", None, tmp_path / "plain",
                        Workspace.resolve(tmp_path / "ws"), recipients_file=recipients)
    duplex = build_forms(TEMPLATES / "quick_poll.yaml", None, tmp_path / "duplex",
                         Workspace.resolve(tmp_path / "ws"), recipients_file=recipients,
                         duplex=True)
    pages = _page_texts(duplex.pdf_path)
    assert len(_page_texts(plain.pdf_path)) == 3 * 2  # letter, one-page form: unchanged
    assert len(pages) == 3 * 4 and duplex.layout.pages_per_copy == 4
    for copy in range(3):  # letter | blank, form | blank: every copy on two whole sheets
        letter, back, form, last = pages[copy * 4 : copy * 4 + 4]
        assert "Dear" in letter and "Serial" in form
        for blank in (back, last):
            assert " ".join(blank.split()) == "This page is intentionally blank."
    manifest = json.loads(duplex.layout_path.read_text())
    assert (manifest["letter_pages"], manifest["padding_pages"], manifest["duplex"]) == (2, 1, True)
    anonymous = build_forms(TEMPLATES / "town_centre.yaml", 2, tmp_path / "anon",
                            Workspace.resolve(tmp_path / "ws"), duplex=True)
    assert len(anonymous.layout.pages) == 4  # already whole sheets: nothing added
    assert len(_page_texts(anonymous.pdf_path)) == 2 * 4


def test_duplex_blank_pages_are_read_as_blank_not_as_errors(tmp_path: Path) -> None:
    recipients = _recipients(tmp_path, ("Mrs Ann Jones", "12 Mill Lane", "MB1 2AB"),
                             ("Mr Dafydd ap Rhys", "3 Station Road", "MB2 9XY"))
    workspace = Workspace.resolve(tmp_path / "ws")
    built = build_forms(TEMPLATES / "quick_poll.yaml", None, tmp_path / "form", workspace,
                        LayoutOptions(languages=("en",), large_print=True), recipients,
                        duplex=True)
    simulated = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=3)
    # letter | blank back, then the two-page form: the simulator finds the form's pages
    assert built.layout.pages_per_copy == 4 and simulated.pages == 2 * 2
    # A duplex scanner returns each sheet's back too, and a letter may come back with the form.
    back = rasterise_page(built.pdf_path, 2, 200)
    scans = [*(rasterise_page(simulated.pdf_path, n, 200) for n in (1, 2)), back,
             *(rasterise_page(simulated.pdf_path, n, 200) for n in (3, 4)), back]
    batch = tmp_path / "duplex-scan.pdf"
    batch.write_bytes(img2pdf.convert(
        [cv2.imencode(".png", np.asarray(page))[1].tobytes() for page in scans],
        layout_fun=img2pdf.get_fixed_dpi_layout_fun((200, 200))))
    settings = ReaderSettings()
    outcomes = ingest_without_flow([batch], workspace.ensure(),
                                   lambda chunk, layouts: read_chunk(chunk, layouts, settings))
    assert outcomes == ["identified", "identified", "blank", "identified", "identified", "blank"]


# Preview


def test_preview_shows_the_first_addressed_copies_with_their_letters(tmp_path: Path) -> None:
    recipients = _recipients(tmp_path, *[(f"Resident {n}", f"{n} Mill Lane", "Millbrook")
                                         for n in range(1, 6)])
    pages, _ = preview_form(TEMPLATES / "quick_poll.yaml", tmp_path / "png",
                            recipients_file=recipients, duplex=True, dpi=30)
    assert len(pages) == 3 * 4  # the first three recipients, each letter | blank, form | blank


def _page_texts(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return out.split("\f")[:-1]


def test_postal_texts_are_held_to_the_label_length_limit(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(f'id: long\ntitle: Long\nsender: "{"x" * 10_001}"\nitems:\n  - note: Hi\n',
                    encoding="utf-8")
    with pytest.raises(TemplateError, match=r"the sender: its label has 10,001 characters"):
        load_questionnaire(path)
