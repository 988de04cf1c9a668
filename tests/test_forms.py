"""Form building: the manifest contract, the identity of a layout, and the printed page codes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import zxingcpp

from pipeline.errors import TemplateError
from pipeline.forms.build import BuiltForm
from pipeline.forms.layout import plan_form
from pipeline.forms.template_yaml import load_template
from pipeline.model import Label
from pipeline.programs.poppler import page_count, rasterise_page
from pipeline.publish import build_forms
from pipeline.records import PageCode, decode_page_code
from pipeline.workspace import Workspace

from .conftest import TEMPLATE


def test_manifest_follows_the_layout_contract(built: tuple[Workspace, BuiltForm]) -> None:
    _, form = built
    data = json.loads(form.layout_path.read_text())
    assert data["schema"] == "papertwin.layout/1"
    assert data["form_key"].startswith("library_services-v1-")
    assert data["page_size_pt"] == [595.28, 841.89]
    assert [p["page"] for p in data["pages"]] == [1, 2]
    width, height = data["page_size_pt"]
    choices: dict[str, list[str]] = {}
    for page in data["pages"]:
        assert len(page["marks"]) == 4
        assert sorted(m["kind"] for m in page["marks"]) == ["ring", "ring", "ring", "solid"]
        boxes = [f["box"] for f in page["fields"]] + [m["box"] for m in page["marks"]]
        boxes.append(page["barcode"]["box"])
        for x0, y0, x1, y1 in boxes:
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        for i, a in enumerate(boxes):  # no two boxes overlap
            for b in boxes[i + 1 :]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        for field in page["fields"]:
            if field["kind"] == "choice":
                choices.setdefault(field["question"], []).append(field["value"])
    assert choices["visit_frequency"] == ["weekly", "monthly", "yearly", "never"]
    assert choices["services"] == ["books", "computers", "children", "study", "events", "delivery"]
    texts = [f for p in data["pages"] for f in p["fields"] if f["kind"] == "text"]
    assert [f["question"] for f in texts] == ["comments"]
    assert [c["serial"] for c in data["copies"]] == [f"{n:06d}" for n in range(1, 7)]
    assert data["copies"][2]["codes"] == [
        f"PT1|{data['form_key']}|000003|1", f"PT1|{data['form_key']}|000003|2"
    ]


def test_every_printed_page_carries_its_own_code(built: tuple[Workspace, BuiltForm]) -> None:
    _, form = built
    layout = form.layout
    assert page_count(form.pdf_path) == 6 * 2
    for index in (1, 4, 12):  # first page, a second page, the last page
        image = rasterise_page(form.pdf_path, index, 150)
        found = [b.text for b in zxingcpp.read_barcodes(image)]
        copy, page = divmod(index - 1, 2)
        assert found == [PageCode(layout.form_key, layout.copies[copy].serial, page + 1).encode()]


def test_form_key_follows_the_geometry_not_the_build() -> None:
    questionnaire = load_template(TEMPLATE)
    first = plan_form(questionnaire).layout.form_key
    assert plan_form(questionnaire).layout.form_key == first
    first = questionnaire.questions[0]
    longer = replace(questionnaire, items=(
        replace(first, label=Label.of("How often, in a normal month, do you go?")),
        *questionnaire.items[1:],
    ))
    assert plan_form(longer).layout.form_key != first


def test_serials_continue_across_builds(tmp_path: Path) -> None:
    workspace = Workspace.resolve(tmp_path / "ws")
    first = build_forms(TEMPLATE, 2, tmp_path / "a", workspace)
    second = build_forms(TEMPLATE, 3, tmp_path / "b", workspace)
    assert [c.serial for c in first.layout.copies] == ["000001", "000002"]
    assert [c.serial for c in second.layout.copies] == ["000003", "000004", "000005"]


def test_page_code_round_trip_and_foreign_codes() -> None:
    code = PageCode("survey-v2-0123456789", "000042", 3)
    assert decode_page_code(code.encode()) == code
    assert decode_page_code("https://example.org/") is None
    assert decode_page_code("PT1|key|00a|1") is None
    assert decode_page_code("PT9|key|000001|1") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: x\ntitle: T\n", "missing required key 'items'"),
        ("id: x\ntitle: T\nquestions: [{name: a, type: rating, label: A}]\n",
         "type 'rating' is not one of select_one, select_multiple, text"),
        ("id: x\ntitle: T\nquestions: [{name: a, type: select_one, label: A, choices: []}]\n",
         "needs a list of at least 2 choices"),
        ("id: x\ntitle: T\nquestions:\n - {name: a, type: text, label: A}\n"
         " - {name: a, type: text, label: B}\n", "duplicate question names ['a']"),
        ("id: x\ntitle: [unclosed\n", "is not valid YAML"),
    ],
)
def test_template_errors_name_the_file_and_the_problem(tmp_path: Path, text: str,
                                                       message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(TemplateError) as raised:
        load_template(path)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)
