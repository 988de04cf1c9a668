"""Benchmark: how many real XLSForms print, per variant, and print cleanly.

For each form in a folder (by default ../shared/xlsforms/forms, beside the checkout) it asks
pyxform whether it reads the form, then prints one copy of each variant papertwin offers and
checks each page as tests/test_xlsform_corpus.py does (boxes, text inside the margins, page
codes decoding at 200 dpi). Not a test: run it by hand,
    .venv/bin/python -m tests.benchmarks.bench_xlsform_corpus [FOLDER]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from pipeline.errors import PapertwinError
from pipeline.forms.layout import LayoutOptions, plan_form
from pipeline.forms.sources import load_questionnaire
from pipeline.model import Questionnaire
from tests.printed_geometry import box_problems, code_problems, print_one_copy, text_problems
from tests.test_xlsform_corpus import CORPUS, TOLERATED, pyxform_error

SUFFIXES = (".xlsx", ".xls", ".csv", ".md")


def kinds(questionnaire: Questionnaire | None) -> list[tuple[str, LayoutOptions]]:
    """The variants counted, by the row of the table they count in (for a form that did not
    load, the two every form has)."""
    langs = questionnaire.languages if questionnaire is not None else ("",)
    rows = [("standard, first language", LayoutOptions(languages=langs[:1])),
            ("large print, first language", LayoutOptions(languages=langs[:1], large_print=True))]
    rows += [("each other language alone", LayoutOptions(languages=(lang,)))
             for lang in langs[1:]]
    if len(langs) > 1:
        rows += [("all languages together", LayoutOptions(languages=langs)),
                 ("all languages, large print", LayoutOptions(languages=langs, large_print=True))]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", nargs="?", type=Path, default=CORPUS)
    args = parser.parse_args()
    forms = sorted(p for p in args.folder.glob("*") if p.suffix in SUFFIXES)
    tried: Counter[str] = Counter()
    built: Counter[str] = Counter()
    clean: Counter[str] = Counter()
    reads = tolerated = refused = refused_too = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="papertwin-bench-") as tmp:
        for form in forms:
            error = pyxform_error(form)
            reads += not error
            tolerated += error.startswith(TOLERATED)
            refused += bool(error) and not error.startswith(TOLERATED)
            try:
                questionnaire = load_questionnaire(form).questionnaire
            except PapertwinError as exc:
                if error and not error.startswith(TOLERATED):
                    refused_too += 1
                else:
                    tried.update(row for row, _ in kinds(None))
                print(f"{form.name}: not loaded: {str(exc)[:160]}")
                continue
            for row, options in kinds(questionnaire):
                tried[row] += 1
                try:
                    plan = plan_form(questionnaire, options, f"template {form}")
                except PapertwinError as exc:
                    print(f"{form.name} {row}: not built: {str(exc)[:160]}")
                    continue
                built[row] += 1
                pdf = Path(tmp) / "form.pdf"
                copy = print_one_copy(plan, pdf)
                problems = (box_problems(plan.layout) + text_problems(pdf, plan.layout)
                            + code_problems(pdf, plan.layout, copy))
                clean[row] += not problems
                for problem in problems[:3]:
                    print(f"{form.name} {row}: {problem}")
    print(f"\n{len(forms)} forms: pyxform reads {reads}, refuses {tolerated} more only for a "
          f"question type it does not know, and refuses {refused}, of which papertwin refuses "
          f"{refused_too}; {time.perf_counter() - start:.0f} s\n")
    print("| variant | forms built / tried | built and every page checks clean |")
    print("|---|---|---|")
    for row in tried:
        print(f"| {row} | {built[row]} / {tried[row]} | {clean[row]} |")


if __name__ == "__main__":
    main()
