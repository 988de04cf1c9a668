"""Forms no one would write, but that pyxform accepts: every one must print, in every variant.

Each is made from a seed: questions of every printable type (and some that are not), in groups
and nested repeats, labelled in up to three of seven languages and scripts, with words longer
than a line, labels longer than a page, markup, emoji, and lists of up to 80 choices. A form
that pyxform reads is printed in standard and large print, in each language alone and all
together, and each layout is checked: every box inside the printable area, apart from the
others, and every question with somewhere to be answered.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipeline.forms.layout import plan_form
from pipeline.forms.sources import load_questionnaire

from .printed_geometry import box_problems, variants
from .test_xlsform_corpus import pyxform_error

TEXTS = ("Short label", "Größe und Wünsche ŵ ŷ", "ما هو رأيك في الخدمة", "आपकी राय क्या है",
         "ስለ አገልግሎቱ ምን ያስባሉ", "你对这项服务有什么看法", "Что вы думаете", "🙂 emoji",
         "<b>Bold</b> and **strong** text<br>on two lines", "W" * 400, "word " * 120)
TYPES = ("text", "integer", "decimal", "date", "time", "datetime", "select_one yn",
         "select_multiple many", "select_one many or_other", "rank few", "range", "acknowledge",
         "note", "geopoint", "image", "calculate")
LANGUAGES = ("en", "cy", "ar", "hi", "am", "zh", "de")
SEEDS = range(24)


def random_form(seed: int, path: Path) -> Path:
    rng = random.Random(seed)
    languages = rng.sample(LANGUAGES, rng.randint(1, 3))

    def label() -> str:
        return " ".join(rng.choice(TEXTS) for _ in range(rng.randint(1, 3)))

    def row(kind: str, name: str, texts: list[str], extra: tuple[str, ...] = ("", "", "")) -> str:
        return "| | " + " | ".join([kind, name, *texts, *extra]) + " |"

    header = ["type", "name", *(f"label::{lang}" for lang in languages), "parameters",
              "calculation", "repeat_count"]
    rows = ["| survey |", "| | " + " | ".join(header) + " |",
            row("text", "first", [label() for _ in languages])]
    open_blocks: list[str] = []
    for number in range(rng.randint(3, 20)):
        kind = rng.choice((*TYPES, "begin repeat", "begin group", "end"))
        if kind == "end":
            if open_blocks:
                rows.append(row(f"end {open_blocks.pop()}", "", ["" for _ in languages]))
            continue
        extra = ("", "", "")
        if kind == "range":
            extra = (f"start=0 end={rng.randint(1, 40)} step=1", "", "")
        elif kind == "calculate":
            extra = ("", "1 + 1", "")
        elif kind == "begin repeat":
            extra = ("", "", rng.choice(("", "2", "${first}")))
        if kind.startswith("begin"):
            open_blocks.append(kind.split()[1])
        rows.append(row(kind, f"q{number}", [label() for _ in languages], extra))
    rows += [row(f"end {kind}", "", ["" for _ in languages]) for kind in reversed(open_blocks)]
    rows += ["| choices |", "| | " + " | ".join(["list_name", "name", *header[2:2 + len(
        languages)]]) + " |"]
    lists = {"yn": 2, "few": rng.randint(2, 12), "many": rng.randint(1, 80)}
    for list_name, count in lists.items():
        rows += ["| | " + " | ".join([list_name, f"c{n}", *(label() for _ in languages)]) + " |"
                 for n in range(count)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_any_form_pyxform_reads_prints_in_every_variant(seed: int, tmp_path: Path) -> None:
    form = random_form(seed, tmp_path / f"form{seed}.md")
    assert pyxform_error(form) == ""  # made as pyxform accepts it: the test is of papertwin
    questionnaire = load_questionnaire(form).questionnaire
    for options in variants(questionnaire):
        layout = plan_form(questionnaire, options).layout
        assert box_problems(layout) == [], options
        answered = {f.question for page in layout.pages for f in page.fields}
        assert answered == {q.name for q in questionnaire.questions}, options
