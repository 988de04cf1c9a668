"""Printed forms: geometry of every shipped template, large print, languages, addressed copies."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import zxingcpp

from pipeline.errors import TemplateError
from pipeline.forms.blocks import TextOp
from pipeline.forms.layout import LayoutOptions, plan_form
from pipeline.forms.phrases import phrase
from pipeline.forms.sources import load_questionnaire
from pipeline.programs.poppler import rasterise_page
from pipeline.publish import build_forms
from pipeline.records import Box, Layout, PageCode
from pipeline.workspace import Workspace

from .conftest import PROJECT
from .geometry import assert_printable
from .printed_geometry import variants
from .test_xlsform_corpus import CORPUS, FORMS, printable

TEMPLATES = PROJECT / "form_templates"
SHIPPED = [
    ("library_services.yaml", LayoutOptions()),
    ("town_centre.yaml", LayoutOptions()),
    ("town_centre.yaml", LayoutOptions(large_print=True)),
    ("town_centre_xlsform.md", LayoutOptions(languages=("en", "cy"))),
    ("town_centre_xlsform.md", LayoutOptions(languages=("cy",), large_print=True)),
    ("quick_poll.yaml", LayoutOptions()),
]
CLEARANCE = 2.0  # points between an answer box and a mark or the page code


def overlaps(a: Box, b: Box, margin: float = 0.0) -> bool:
    return not (a[2] + margin <= b[0] or b[2] + margin <= a[0]
                or a[3] + margin <= b[1] or b[3] + margin <= a[1])


@pytest.mark.parametrize(("template", "options"), SHIPPED,
                         ids=[f"{t}-{o.languages}-{o.large_print}" for t, o in SHIPPED])
def test_geometry_of_the_shipped_templates(template: str, options: LayoutOptions) -> None:
    layout = plan_form(load_questionnaire(TEMPLATES / template).questionnaire, options).layout
    width, height = layout.page_size
    names = {q.name for q in layout.questionnaire.questions}
    seen: set[str] = set()
    for page in layout.pages:
        furniture = [m.box for m in page.marks] + [page.barcode]
        boxes = [f.box for f in page.fields]
        for field in page.fields:
            x0, y0, x1, y1 = field.box
            assert 0 < x0 < x1 < width and 0 < y0 < y1 < height, field
            assert not any(overlaps(field.box, f, CLEARANCE) for f in furniture), field
            seen.add(field.question)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not overlaps(a, b), (a, b)
    assert seen == names  # every question has somewhere to be answered


def test_every_question_has_the_boxes_its_type_needs() -> None:
    layout = plan_form(load_questionnaire(TEMPLATES / "town_centre.yaml").questionnaire).layout
    fields = [f for p in layout.pages for f in p.fields]
    def of(name: str) -> list[str]:
        return [f"{f.kind}:{f.value if f.kind == 'choice' else f.index}"
                for f in fields if f.question == name]
    assert of("visit_frequency") == [f"choice:{c}" for c in
                                     ("daily", "weekly", "monthly", "rarely", "never")]
    assert of("cycle_lanes") == [f"choice:{c}" for c in (
        "strongly_support", "support", "neutral", "oppose", "strongly_oppose", "dont_know")]
    assert of("postcode") == [f"char:{i}" for i in range(7)]  # outward 4, a gap, inward 3
    assert of("completed_on") == [f"char:{i}" for i in range(8)]
    assert of("age") == [f"char:{i}" for i in range(3)]
    assert of("travel_mode_other") == ["text:None"]
    assert len(of("comments")) >= 1 and set(of("comments")) == {"text:None"}


def page_texts(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return out.split("\f")[:-1]


def test_routing_and_numbering_are_printed(tmp_path: Path) -> None:
    built = build_forms(TEMPLATES / "town_centre.yaml", 1, tmp_path / "out",
                        Workspace.resolve(tmp_path / "ws"))
    text = " ".join(" ".join(page.split()) for page in page_texts(built.pdf_path))
    assert "Never → Go to question 4" in text  # question 4 is the grid after the skipped ones
    assert "No → Go to question 7" in text
    assert "Please specify:" in text
    pages = len(built.layout.pages)
    assert 3 <= pages <= 4
    assert f"Page {pages} of {pages}" in text
    assert "fill that box in completely and tick the box you meant" in text


def test_every_page_code_decodes_at_200_dpi(tmp_path: Path) -> None:
    built = build_forms(TEMPLATES / "town_centre.yaml", 2, tmp_path / "out",
                        Workspace.resolve(tmp_path / "ws"), LayoutOptions(large_print=True))
    layout = built.layout
    pages = len(layout.pages)
    for index in range(1, 2 * pages + 1):
        image = rasterise_page(built.pdf_path, index, 200)
        found = [b.text for b in zxingcpp.read_barcodes(image)]
        copy, page = divmod(index - 1, pages)
        assert found == [PageCode(layout.form_key, layout.copies[copy].serial, page + 1).encode()]


def box_sizes(layout: Layout, kind: str) -> set[tuple[float, float]]:
    return {(round(f.box[2] - f.box[0], 1), round(f.box[3] - f.box[1], 1))
            for p in layout.pages for f in p.fields if f.kind == kind}


def test_large_print_has_larger_text_and_boxes_and_its_own_key() -> None:
    questionnaire = load_questionnaire(TEMPLATES / "town_centre.yaml").questionnaire
    standard = plan_form(questionnaire)
    large = plan_form(questionnaire, LayoutOptions(large_print=True))
    assert large.layout.form_key != standard.layout.form_key
    assert "-lp-" in large.layout.form_key
    assert len(large.pages) > len(standard.pages)
    ticks = box_sizes(standard.layout, "choice")
    large_ticks = box_sizes(large.layout, "choice")
    # 7 mm boxes against clear print's 5 mm: 1.4 times, measured to 0.1 pt
    assert min(min(s) for s in large_ticks) >= 1.4 * max(max(s) for s in ticks) - 0.1
    cells = box_sizes(standard.layout, "char")
    large_cells = box_sizes(large.layout, "char")
    assert min(w for w, _ in large_cells) > max(w for w, _ in cells)
    assert min(h for _, h in large_cells) > max(h for _, h in cells)
    sizes = {op.size for page in large.pages for op in page.ops if isinstance(op, TextOp)}
    assert min(sizes) >= 16  # RNIB clear print: nothing a respondent reads under 16 pt


def test_bilingual_copies_print_both_languages(tmp_path: Path) -> None:
    built = build_forms(TEMPLATES / "town_centre_xlsform.md", 1, tmp_path / "out",
                        Workspace.resolve(tmp_path / "ws"), LayoutOptions(languages=("cy", "en")))
    text = " ".join(" ".join(page.split()) for page in page_texts(built.pdf_path))
    assert "Pa mor aml ydych chi'n ymweld â chanol tref Millbrook?" in text
    assert "How often do you visit Millbrook town centre?" in text
    assert "Ticiwch un blwch. / Please tick one box." in text
    assert "Tudalen 1 o " in text and "Rhif / Serial 000001" in text
    assert built.layout.languages == ("cy", "en")
    with pytest.raises(TemplateError, match="has no labels in fr"):
        plan_form(load_questionnaire(TEMPLATES / "town_centre_xlsform.md").questionnaire,
                  LayoutOptions(languages=("en", "fr")))


def test_addressed_copies_keep_names_off_the_questionnaire(tmp_path: Path) -> None:
    recipients = tmp_path / "recipients.csv"
    recipients.write_text("name,address1,town,postcode,phone\n"
                          "Mrs Ann Jones,12 Mill Lane,Millbrook,MB1 2AB,01234 567890\n"
                          "Mr Dafydd ap Rhys,3 Station Road,Millbrook,MB2 9XY,\n")
    built = build_forms(TEMPLATES / "quick_poll.yaml", None, tmp_path / "out",
                        Workspace.resolve(tmp_path / "ws"), recipients_file=recipients)
    assert built.contacts_path is not None
    assert built.contacts_path.read_text().splitlines() == [
        '"serial","name","address1","town","postcode","phone"',
        '"000001","Mrs Ann Jones","12 Mill Lane","Millbrook","MB1 2AB","01234 567890"',
        '"000002","Mr Dafydd ap Rhys","3 Station Road","Millbrook","MB2 9XY",""',
    ]
    pages = page_texts(built.pdf_path)
    assert len(pages) == 2 * (1 + 1)  # a cover letter and the one-page form, per copy
    assert "Mrs Ann Jones" in pages[0] and "MB1 2AB" in pages[0]
    assert "Mr Dafydd ap Rhys" in pages[2]
    for questionnaire_page in (pages[1], pages[3]):
        assert "Jones" not in questionnaire_page and "Rhys" not in questionnaire_page
        assert "Mill Lane" not in questionnaire_page
    assert "Serial 000001" in pages[1] and "Serial 000002" in pages[3]
    assert "Ann" not in built.layout_path.read_text()


def test_the_same_inputs_give_the_same_pdf_bytes(tmp_path: Path) -> None:
    outputs = []
    for run in ("a", "b"):
        built = build_forms(TEMPLATES / "town_centre.yaml", 3, tmp_path / run / "out",
                            Workspace.resolve(tmp_path / run / "ws"))
        outputs.append(built.pdf_path.read_bytes())
    assert outputs[0] == outputs[1]


def test_unknown_template_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "survey.docx"
    path.write_bytes(b"PK")
    with pytest.raises(TemplateError, match=r"papertwin reads YAML \(.yaml\), XLSForm"):
        load_questionnaire(path)


def test_a_long_addressed_run_is_printed_in_parts_and_simulated_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.forms import build
    from pipeline.simulate.returns import simulate_returns

    monkeypatch.setattr(build, "PART_COPIES", 2)
    recipients = tmp_path / "recipients.csv"
    recipients.write_text("name,address\n" + "".join(
        f"Resident {n},\"{n} Mill Lane\nMillbrook\"\n" for n in range(1, 6)))
    built = build_forms(TEMPLATES / "quick_poll.yaml", None, tmp_path / "out",
                        Workspace.resolve(tmp_path / "ws"), recipients_file=recipients)
    assert [p.name for p in built.pdf_paths] == [
        "form-part-001.pdf", "form-part-002.pdf", "form-part-003.pdf"]
    assert [len(page_texts(p)) for p in built.pdf_paths] == [4, 4, 2]  # cover + page per copy
    assert "Resident 5" in page_texts(built.pdf_paths[2])[0]
    batch = simulate_returns(tmp_path / "out", tmp_path / "scans", seed=2)
    assert batch.pages == 5  # the questionnaire pages only, no cover letters
    image = rasterise_page(batch.pdf_path, 5, 200)
    assert [b.text for b in zxingcpp.read_barcodes(image)] == [built.layout.copies[4].codes[0]]
    # A smaller rebuild in the same folder leaves no stale parts behind.
    rebuilt = build_forms(TEMPLATES / "quick_poll.yaml", 1, tmp_path / "out",
                          Workspace.resolve(tmp_path / "ws"))
    assert sorted(p.name for p in (tmp_path / "out").glob("*.pdf")) == ["form.pdf"]
    assert rebuilt.layout.cover_letters is False


# -- every real form prints: split questions, grids that stay grids, nothing past the margins --

REAL_FORMS = CORPUS


def real_forms() -> list[Path]:
    """The real forms pyxform reads (those it refuses are refused in test_xlsform_corpus.py)."""
    return [p for p in FORMS if printable(p)]


@pytest.mark.skipif(not real_forms(), reason="the real XLSForms are not beside the project")
@pytest.mark.parametrize("large_print", [False, True], ids=["standard", "large-print"])
@pytest.mark.parametrize("form", [p.name for p in real_forms()])
def test_every_real_form_prints_in_every_variant(form: str, large_print: bool) -> None:
    questionnaire = load_questionnaire(REAL_FORMS / form).questionnaire
    for options in variants(questionnaire):
        if options.large_print != large_print:
            continue
        plan = plan_form(questionnaire, options)
        assert_printable(plan)
        for index, page in enumerate(plan.layout.pages[1:], start=1):
            before = {f.question for f in plan.layout.pages[index - 1].fields}
            if page.fields and page.fields[0].question in before:  # a question split here
                texts = [op.text for op in plan.pages[index].ops if isinstance(op, TextOp)]
                assert any(phrase("continued", plan.languages[-1]) in t for t in texts), (
                    form, plan.languages, page.page)


def test_a_list_of_42_choices_splits_between_choices_with_its_number_repeated() -> None:
    path = REAL_FORMS / "impact_cleaningtools_form.xlsx"
    if not path.is_file():
        pytest.skip("the real XLSForms are not beside the project")
    questionnaire = load_questionnaire(path).questionnaire
    plan = plan_form(questionnaire, LayoutOptions(("en",), large_print=True))
    pages = [p for p in plan.layout.pages if any(f.question == "neighbourhood" for f in p.fields)]
    assert [p.page for p in pages] == [1, 2]  # in two columns in large print
    values = [f.value for p in pages for f in p.fields if f.question == "neighbourhood"]
    assert values == [c.name for c in questionnaire.question("neighbourhood").choices]
    assert len(values) == 42
    for page in pages[1:]:
        texts = [op.text for op in plan.pages[page.page - 1].ops if isinstance(op, TextOp)]
        assert "2." in texts
        assert any(t.startswith("Please record the") and t.endswith("(continued)")
                   for t in texts)
