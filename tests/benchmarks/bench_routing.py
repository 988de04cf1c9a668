"""Benchmark: how real XLSForms' `relevant` logic prints, and whether the print is the route.

For every form pyxform reads in ../shared/xlsforms/forms (or FOLDER) and the shipped templates it
counts the conditional questions, the go-tos and filter lines printed, and the filter lines that
could not be put in words; then a respondent who follows the print (go-tos and filter lines, as
read back from layout.json) answers many generated answer sets, and each question they answer or
skip is compared with what the online form asks, as the evaluator decides it. Not a test: run it
by hand,
    .venv/bin/python -m tests.benchmarks.bench_routing [FOLDER] [--sets N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pipeline.forms.sources import load_questionnaire
from pipeline.model import Grid, Question, Questionnaire, Repeat, Section, expand_items
from tests.test_routing import TEMPLATES, route_disagreements
from tests.test_xlsform_corpus import CORPUS, printable

SUFFIXES = (".xlsx", ".xls", ".csv", ".md")


def counts(questionnaire: Questionnaire) -> tuple[int, int, int]:
    """(questions with a condition, go-tos, filter lines), each repeat copy counted."""
    conditional = go_tos = filters = 0
    for item in expand_items(questionnaire.items):
        rows = item.rows if isinstance(item, Grid) else ()
        for one in (item, *rows):
            if isinstance(one, Question):
                conditional += bool(one.relevant) and not one.other_of
                go_tos += sum(bool(c.route_to) for c in one.choices)
            if isinstance(one, Question | Grid | Repeat | Section):
                filters += bool(one.ask_if)
    return conditional, go_tos, filters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--sets", type=int, default=150, help="answer sets per form")
    args = parser.parse_args()
    forms = [p for p in sorted(args.folder.iterdir())
             if p.suffix in SUFFIXES and printable(p)] + TEMPLATES
    started = time.perf_counter()
    totals = [0] * 6
    print(f"{'form':40} {'conditional':>11} {'go-tos':>7} {'filters':>8} {'unworded':>9} "
          f"{'compared':>9} {'disagree':>9}")
    for path in forms:
        loaded = load_questionnaire(path)
        conditional, go_tos, filters = counts(loaded.questionnaire)
        unworded = sum("cannot put in words" in w for w in loaded.warnings)
        compared, problems = route_disagreements(path, args.sets)
        row = (conditional, go_tos, filters, unworded, compared, len(problems))
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        print(f"{path.name:40} {row[0]:>11} {row[1]:>7} {row[2]:>8} {row[3]:>9} {row[4]:>9} "
              f"{row[5]:>9}")
        for problem in problems:
            print(f"    {problem[:300]}")
    print(f"{'all ' + str(len(forms)) + ' forms':40} {totals[0]:>11} {totals[1]:>7} "
          f"{totals[2]:>8} {totals[3]:>9} {totals[4]:>9} {totals[5]:>9}")
    print(f"{time.perf_counter() - started:.0f} s, {args.sets} answer sets per form")


if __name__ == "__main__":
    main()
