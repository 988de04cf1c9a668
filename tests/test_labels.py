"""Labels as online forms write them (HTML, Markdown, `${name}`), printed as a respondent reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.forms.layout import LayoutOptions
from pipeline.forms.markup import plain_text
from pipeline.forms.sources import load_questionnaire
from pipeline.publish import build_forms
from pipeline.workspace import Workspace

from .test_layout import page_texts

FORM = """
| survey |
| | type | name | label::en | label::cy | repeat_count | calculation | papertwin::table |
| | text | full_name | What is your <b>full</b> name? | Beth yw eich enw <b>llawn</b>? | |
| | note | thanks | Thank you, **${full_name}**.<br>Now your household. | Diolch, ${full_name}. | |
| | begin repeat | person | Person | Person | 2 | | no |
| | text | first | First name | Enw cyntaf | |
| | integer | age | How old is ${first}? | Faint yw oed ${first}? | |
| | end repeat | | | | |
| | calculate | total | | | | 1 + 1 |
| | note | score | Your score is ${total}. | Eich sgôr yw ${total}. | |
| settings |
| | form_id | version |
| | labels | 1 |
"""


@pytest.mark.parametrize(("written", "printed"), [
    ("What is your <b>full</b> name?", "What is your full name?"),
    ("Resend to ${n} <br>\n\n<b> [Surveyor: select</b>", "Resend to ${n}\n[Surveyor: select"),
    ("<p>One</p><p>Two &amp; three&nbsp;more</p>", "One\nTwo & three more"),
    ('<span style="color: #ff0000;">Red</span><ul><li>a</li><li>b</li></ul>',
     "Red\n\u2022 a\n\u2022 b"),
    ("**Bold**, *emphasis*, snake_case_name, 2*3*4", "Bold, emphasis, snake_case_name, 2*3*4"),
    ("# Heading\nSee [the plan](https://example.org/plan)", "Heading\nSee the plan"),
    ("children <5 and a<b c", "children <5 and a<b c"),
    ("Fish & chips", "Fish & chips"),
])
def test_markup_is_dropped_and_text_kept(written: str, printed: str) -> None:
    assert plain_text(written) == printed


def test_labels_print_without_markup_and_with_references_as_question_numbers(
        tmp_path: Path) -> None:
    template = tmp_path / "labels.md"
    template.write_text(FORM, encoding="utf-8")
    questionnaire = load_questionnaire(template).questionnaire
    assert questionnaire.question("full_name").label.text("en") == "What is your full name?"
    assert questionnaire.question("person[2]/age").label.text("en") == \
        "How old is ${person[2]/first}?"
    built = build_forms(template, 1, tmp_path / "out", Workspace.resolve(tmp_path / "ws"),
                        LayoutOptions(languages=("en", "cy")))
    text = " ".join(" ".join(page.split()) for page in page_texts(built.pdf_path))
    assert "What is your full name?" in text and "<b>" not in text and "**" not in text
    assert "Thank you, (your answer to question 1)." in text
    assert "Diolch, (eich ateb i gwestiwn 1)." in text
    # in each copy, the copy's own first name: 2a under "Person 1" and under "Person 2" (a table
    # prints its column labels once for every row: there a reference prints as "…")
    assert text.count("How old is (your answer to question 2a)?") == 2
    assert "Your score is \u2026." in text  # worked out by the form: nothing to point to
    assert "${" not in text
