"""The printed route is the online route.

A respondent who follows the printed instructions (go-tos beside choices, "Answer this only if"
lines), as read back from the layout manifest, answers exactly the questions that the form's
`relevant` logic asks online, as the evaluator decides it: checked on many generated answer
sets, on every real XLSForm pyxform reads and on the shipped templates.
"""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

import pytest

from pipeline.forms.condition_words import describe, filter_line
from pipeline.forms.expression import ExpressionError, Literal, parse, subexpressions
from pipeline.forms.layout import LayoutOptions, plan_form
from pipeline.forms.numbering import question_numbers
from pipeline.forms.route import END, asked_questions, printed_route
from pipeline.forms.sources import load_questionnaire
from pipeline.model import Question, Questionnaire, Repeat, expand_items
from pipeline.publish import build_forms
from pipeline.records import layout_from_dict, layout_to_dict
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.workspace import Workspace

from .conftest import PROJECT
from .reading_back import read_back
from .test_xlsform_corpus import FORMS, printable

TEMPLATES = sorted(p for p in (PROJECT / "form_templates").iterdir()
                   if p.suffix in (".yaml", ".md", ".xlsx"))
BUS = PROJECT / "form_templates" / "bus_network_xlsform.md"
ANSWER_SETS = 150
TODAY = date(2026, 11, 30)


def routed_forms() -> list[Path]:
    return [p for p in FORMS if printable(p)] + TEMPLATES


def as_printed(questionnaire: Questionnaire) -> Questionnaire:
    """The questionnaire as layout.json holds it: what the printed form says."""
    plan = plan_form(questionnaire, LayoutOptions())
    return layout_from_dict(layout_to_dict(plan.layout)).questionnaire


def literals(questionnaire: Questionnaire) -> tuple[list[float], list[str]]:
    """The numbers and texts the form's conditions compare with: answers near them matter."""
    numbers: set[float] = {0.0}
    texts: set[str] = {""}
    for item in expand_items(questionnaire.items):
        rows = item.rows if hasattr(item, "rows") else ()
        for one in (item, *rows):
            text = getattr(one, "relevant", "")
            if not text:
                continue
            try:
                expression = parse(text)
            except ExpressionError:
                continue
            for literal in (e for e in subexpressions(expression) if isinstance(e, Literal)):
                if isinstance(literal.value, float):
                    numbers.update({literal.value - 1, literal.value, literal.value + 1})
                else:
                    texts.add(literal.value)
    return sorted(numbers), sorted(texts)


def intended_answers(questionnaire: Questionnaire, rng: random.Random) -> dict[str, str]:
    """What one respondent would answer to every question, if asked it."""
    numbers, texts = literals(questionnaire)
    answers: dict[str, str] = {}
    for question in questionnaire.questions:
        answers[question.name] = _answer(question, rng, numbers, texts)
    return answers


def _answer(question: Question, rng: random.Random, numbers: list[float],
            texts: list[str]) -> str:
    names = list(question.choice_names())
    if question.type in ("select_one", "range", "acknowledge") and names:
        return rng.choice(names)
    if question.type in ("select_multiple", "rank") and names:
        picked = [n for n in names if rng.random() < 0.4] or [rng.choice(names)]
        return " ".join(picked)
    if question.type in ("integer", "decimal"):
        value = rng.choice(numbers) if rng.random() < 0.7 else float(rng.randint(0, 120))
        return str(int(value)) if value.is_integer() else str(value)
    if question.type == "date":
        return rng.choice(("2001-05-04", "2020-01-01", "2026-11-29", "1950-12-31"))
    written = [text for text in texts if text]
    return rng.choice(written) if written and rng.random() < 0.5 else "words"


def route_disagreements(path: Path, sets: int = ANSWER_SETS) -> tuple[int, list[str]]:
    """(answers compared, the first few questions where paper and online disagree)."""
    loaded = load_questionnaire(path).questionnaire
    printed = as_printed(loaded)
    rng = random.Random(path.name)
    compared = 0
    problems: list[str] = []
    for _ in range(sets):
        intended = intended_answers(printed, rng)
        paper = printed_route(printed, intended, TODAY)
        online = asked_questions(loaded, paper, TODAY)
        for name, asked in online.items():
            if asked is None:
                continue  # the condition reads a calculation: no one on paper can know it
            compared += 1
            answered = bool(paper.get(name))  # every intended answer is non-blank
            if asked != answered:
                problems.append(f"{path.name}: {name}: online {'asks' if asked else 'skips'} "
                                f"it, paper {'answers' if answered else 'skips'} it "
                                f"({ {k: v for k, v in paper.items() if v} })")
                break
        if len(problems) >= 3:
            break
    return compared, problems


@pytest.mark.parametrize("path", routed_forms(), ids=lambda p: p.name)
def test_a_respondent_who_follows_the_print_answers_what_the_online_form_asks(path: Path) -> None:
    compared, problems = route_disagreements(path)
    assert not problems, "\n".join(problems)
    assert compared > 0


def test_the_consent_question_sends_those_who_refuse_to_the_end_in_english_and_welsh() -> None:
    loaded = load_questionnaire(BUS)
    consent = loaded.questionnaire.question("consent")
    routes = {c.name: c.route_to for c in consent.choices}
    assert routes == {"yes": "", "no": END}
    # "Never" skips the two questions about the routes used, to the question for non-users
    bus_use = loaded.questionnaire.question("bus_use")
    assert {c.name: c.route_to for c in bus_use.choices}["never"] == "why_not"
    assert not any("not a simple comparison" in w for w in loaded.warnings)
    # printed so, in Welsh first and in English
    plan = plan_form(loaded.questionnaire, LayoutOptions(languages=("cy", "en")))
    texts = [op.text for page in plan.pages for op in page.ops if hasattr(op, "text")]
    assert "Na / No \u2192 Ewch i'r diwedd / Go to the end" in texts
    assert any(t.endswith("Byth / Never \u2192 Ewch i gwestiwn 5 / Go to question 5")
               for t in texts), [t for t in texts if "Byth" in t]


def test_conditions_are_put_in_words_in_each_language() -> None:
    questionnaire = load_questionnaire(BUS).questionnaire
    numbers = question_numbers(questionnaire)
    questions = {q.name: q for q in questionnaire.questions}
    night = questionnaire.question("night_bus")
    assert night.ask_if == "(${age} >= 16) and (${bus_use} != 'never')"
    assert filter_line(night.ask_if, "en", numbers, questions) == (
        f"Answer this only if your answer to question {numbers['age']} is 16 or more and you "
        f"did not answer \u2018Never\u2019 to question {numbers['bus_use']}.")
    assert filter_line(night.ask_if, "cy", numbers, questions) == (
        f"Atebwch hwn dim ond os yw eich ateb i gwestiwn {numbers['age']} yn 16 neu fwy ac na "
        f"wnaethoch ateb \u2018Byth\u2019 i gwestiwn {numbers['bus_use']}.")
    concession = questionnaire.question("concession")
    assert describe(parse(concession.ask_if), "en", numbers, questions) == (
        f"your answer to question {numbers['age']} is 60 or more or you answered \u2018Yes\u2019 "
        f"to question {numbers['disability']}")
    reasons = parse("${support_plan} = 'oppose' or ${support_plan} = 'strongly_oppose'")
    assert describe(reasons, "en", numbers, questions) == (
        f"you answered \u2018Oppose\u2019 or \u2018Strongly oppose\u2019 to question "
        f"{numbers['support_plan']}")
    routes = parse("selected(${routes}, 'x10') and count-selected(${routes}) >= 2")
    assert describe(routes, "en", numbers, questions) == (
        f"you ticked \u2018X10: Express to the city\u2019 at question {numbers['routes']} and "
        f"you ticked 2 or more answers at question {numbers['routes']}")
    # what cannot be said exactly is not said: a date, a calculation, a function
    for text in ("${age} > today()", "string-length(${postcode}) > 3", "${total} > 5",
                 "${routes} = 'r1'", "${routes} = 'r1' or ${routes} = 'r2'"):
        assert describe(parse(text), "en", numbers, questions) is None, text
        assert filter_line(text, "en", numbers, questions).startswith(
            "Answer this only if it applies to you")


def test_the_oppose_question_is_skipped_by_go_tos_alone() -> None:
    questionnaire = load_questionnaire(BUS).questionnaire
    reason = questionnaire.question("oppose_reason")
    assert reason.ask_if == ""  # every choice that skips it says "Go to"
    support = questionnaire.question("support_plan")
    assert {c.name for c in support.choices if c.route_to == "postcode"} == {
        "strongly_support", "support", "neutral"}


def test_repeats_route_within_a_copy() -> None:
    for path in routed_forms():
        questionnaire = load_questionnaire(path).questionnaire
        for item in questionnaire.items:
            if isinstance(item, Repeat):
                inner = {i.name for i in item.items}
                for question in item.items:
                    if isinstance(question, Question):
                        for choice in question.choices:
                            assert not choice.route_to or choice.route_to in inner, (
                                path.name, question.name, choice.route_to)


def test_simulated_returns_that_refuse_consent_leave_the_consented_questions_blank(
        tmp_path: Path) -> None:
    built = build_forms(BUS, 12, tmp_path / "form", Workspace.resolve(tmp_path / "ws"),
                        LayoutOptions(languages=("cy", "en")))
    batch = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=3, off_route=0.4)
    truth = json.loads(batch.truth_path.read_text())["responses"]
    read = read_back(batch, built.layout)
    questionnaire = built.layout.questionnaire
    later = [q.name for q in questionnaire.questions if q.name != "consent"]
    refused = [r for r in truth if r["answers"]["consent"] == "no"]
    strays = [r for r in truth if r["off_route"]]
    assert refused and strays and len(strays) < len(truth)
    routing = [q.name for q in questionnaire.questions if any(c.route_to for c in q.choices)]
    for response in truth:
        answers = {name: truth_value(value) for name, value in response["answers"].items()}
        online = asked_questions(questionnaire, answers)
        skipped_but_answered = [n for n, asked in online.items() if asked is False and answers[n]]
        # those who follow the print answer only what the online form would ask them; one who
        # leaves a question with go-tos blank is told nothing and answers on, as on any paper form
        gave_routing_answers = all(answers[name] for name in routing if online[name])
        assert bool(skipped_but_answered) <= (response["off_route"] or not gave_routing_answers), \
            response["serial"]
        if response in refused and not response["off_route"]:
            assert not any(answers[name] for name in later), response["serial"]
            # and what is read back from their scans is blank too
            assert all(read[(response["serial"], name)][0] == "" for name in later)
