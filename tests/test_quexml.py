"""queXML templates: LimeSurvey's paper export read into the questionnaire model."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import TemplateError
from pipeline.forms.route import END
from pipeline.forms.sources import load_questionnaire
from pipeline.forms.template_quexml import load_quexml
from pipeline.model import Grid, Note, Question, Questionnaire, Section

SAMPLE = Path(__file__).resolve().parent / "data" / "quexml" / "consultation.xml"
VAS_WARNING = "question RATING (vas): a visual analogue scale cannot be printed; left out"


@pytest.fixture(scope="module")
def sample() -> tuple[Questionnaire, list[str]]:
    return load_quexml(SAMPLE)


def _question(questionnaire: Questionnaire, name: str) -> Question:
    return questionnaire.question(name)


def _choices(question: Question | Grid) -> list[tuple[str, str]]:
    return [(c.name, c.label.text()) for c in question.choices]


def _write(tmp_path: Path, body: str, root: str = '<questionnaire id="7">') -> Path:
    path = tmp_path / "form.xml"
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n{root}<title>T</title>{body}'
                    "</questionnaire>", encoding="utf-8")
    return path


def _fixed(var: str, *categories: str) -> str:
    return f'<response varName="{var}"><fixed>{"".join(categories)}</fixed></response>'


def _category(label: str, value: str, extra: str = "") -> str:
    return f"<category><label>{label}</label><value>{value}</value>{extra}</category>"


# The sample file


def test_sample_items_come_in_document_order(sample: tuple[Questionnaire, list[str]]) -> None:
    questionnaire, _ = sample
    kinds = [(type(item).__name__, item.name) for item in questionnaire.items]
    assert kinds == [
        ("Section", "section_11"), ("Note", "section_11_before"),
        ("Question", "VISITED"), ("Question", "ACTIVITY"), ("Question", "TRAVEL"),
        ("Question", "TRAVELother"), ("Grid", "SATISFY"),
        ("Section", "section_12"), ("Question", "IMPROVE"), ("Question", "HOUSEHOLD"),
        ("Note", "questionnaire_after"),
    ]
    assert [(q.name, q.type) for q in questionnaire.questions] == [
        ("VISITED", "select_one"), ("ACTIVITY", "select_multiple"), ("TRAVEL", "select_one"),
        ("TRAVELother", "text"), ("SATISFY_SQ001", "select_one"), ("SATISFY_SQ002", "select_one"),
        ("SATISFY_SQ003", "select_one"), ("SATISFY_SQ004", "select_one"), ("IMPROVE", "text"),
        ("HOUSEHOLD", "integer"),
    ]


def test_sample_header(sample: tuple[Questionnaire, list[str]]) -> None:
    questionnaire, _ = sample
    assert questionnaire.id == "482913"
    assert questionnaire.version == "1"
    assert questionnaire.languages == ("en",)
    assert questionnaire.title.texts == (("en", "Riverside Park: have your say"),)
    assert questionnaire.intro.text().startswith("Millbrook District Council is planning")
    assert not questionnaire.organisation
    assert not questionnaire.returns.address
    sections = [i for i in questionnaire.items if isinstance(i, Section)]
    assert [s.label.text() for s in sections] == ["Your visits", "Improvements"]
    notes = [i for i in questionnaire.items if isinstance(i, Note)]
    assert [n.label.text() for n in notes] == ["About how you use the park today.",
                                               "Thank you for taking part."]


def test_single_choice_keeps_limesurvey_codes_and_its_skip(
        sample: tuple[Questionnaire, list[str]]) -> None:
    questionnaire, _ = sample
    visited = _question(questionnaire, "VISITED")
    assert visited.label.text() == "Have you visited Riverside Park in the last 12 months?"
    assert _choices(visited) == [("Y", "Yes"), ("N", "No")]
    assert [c.route_to for c in visited.choices] == ["", "IMPROVE"]
    travel = _question(questionnaire, "TRAVEL")
    assert _choices(travel) == [("A1", "On foot"), ("A2", "By bicycle"), ("A3", "By car"),
                                ("A4", "By bus"), ("-oth-", "Other")]


def test_multiple_response_set_is_one_select_multiple(
        sample: tuple[Questionnaire, list[str]]) -> None:
    questionnaire, _ = sample
    activity = _question(questionnaire, "ACTIVITY")
    assert activity.type == "select_multiple"
    assert activity.label.text() == "What did you do on your visits?"
    assert activity.hint.text() == "Tick every activity you did at least once."
    assert _choices(activity) == [("ACTIVITY_SQ001", "Walking or running"),
                                  ("ACTIVITY_SQ002", "Playing sport"),
                                  ("ACTIVITY_SQ003", "Taking children to the playground")]


def test_subquestions_make_a_grid_on_one_scale(sample: tuple[Questionnaire, list[str]]) -> None:
    questionnaire, _ = sample
    grid = next(i for i in questionnaire.items if isinstance(i, Grid))
    assert grid.name == "SATISFY"
    assert grid.label.text() == "How satisfied are you with each of these?"
    assert not grid.multiple
    assert _choices(grid) == [("1", "Very dissatisfied"), ("2", "Dissatisfied"),
                              ("3", "Neither"), ("4", "Satisfied"), ("5", "Very satisfied")]
    assert [(r.name, r.label.text()) for r in grid.rows] == [
        ("SATISFY_SQ001", "Paths and surfaces"), ("SATISFY_SQ002", "Public toilets"),
        ("SATISFY_SQ003", "Lighting after dark"), ("SATISFY_SQ004", "The play area"),
    ]
    for row in grid.rows:
        assert (row.type, row.grid, row.choices) == ("select_one", "SATISFY", grid.choices)


def test_contingent_question_is_the_please_specify_text(
        sample: tuple[Questionnaire, list[str]]) -> None:
    questionnaire, _ = sample
    other = _question(questionnaire, "TRAVELother")
    assert (other.type, other.other_of, other.label.text()) == ("text", "TRAVEL", "Other")
    assert (other.lines, other.cells) == (3, 0)  # longtext 24 mm high


def test_free_answers(sample: tuple[Questionnaire, list[str]]) -> None:
    questionnaire, _ = sample
    improve = _question(questionnaire, "IMPROVE")
    assert (improve.type, improve.lines, improve.cells) == ("text", 5, 0)
    assert improve.hint.text() == "Please write clearly in the box."
    household = _question(questionnaire, "HOUSEHOLD")
    assert (household.type, household.cells, household.charset) == ("integer", 2, "digits")


def test_vas_is_left_out_with_a_warning(sample: tuple[Questionnaire, list[str]]) -> None:
    questionnaire, warnings = sample
    assert warnings == [VAS_WARNING]
    assert "RATING" not in [q.name for q in questionnaire.questions]


def test_load_questionnaire_reads_quexml_and_keeps_the_skip() -> None:
    loaded = load_questionnaire(SAMPLE)
    assert loaded.warnings == (VAS_WARNING,)
    visited = loaded.questionnaire.question("VISITED")
    assert [(c.name, c.route_to) for c in visited.choices] == [("Y", ""), ("N", "IMPROVE")]
    assert loaded.questionnaire.question("TRAVELother").other_of == "TRAVEL"


# Mappings beyond the sample


def test_skips_to_a_left_out_question_to_the_end_and_to_nowhere(tmp_path: Path) -> None:
    path = _write(tmp_path, "<section>"
                  "<question><text>Q</text>"
                  + _fixed("A", _category("One", "1", "<skipTo>V</skipTo>"),
                           _category("Two", "2", "<skipTo>End</skipTo>"),
                           _category("Three", "3", "<skipTo>NOPE</skipTo>"))
                  + "</question>"
                  '<question><text>Rate</text><response varName="V"><vas><labelleft>a'
                  "</labelleft><labelright>b</labelright></vas></response></question>"
                  '<question><text>Count</text><response varName="B"><free><format>integer'
                  "</format><length>3</length></free></response></question></section>")
    questionnaire, warnings = load_quexml(path)
    assert [(c.name, c.route_to) for c in questionnaire.question("A").choices] == [
        ("1", "B"), ("2", END), ("3", "")]
    assert warnings == [
        "question V (vas): a visual analogue scale cannot be printed; left out",
        "question A: skipTo NOPE of choice '3' matches no question; printed without a routing "
        "instruction",
    ]


def test_limesurvey_multiple_choice_with_other(tmp_path: Path) -> None:
    # LimeSurvey names the "other" response after the next code and its text QCODEother.
    other = ('<contingentQuestion varName="Q2other"><text>Other</text><length>24</length>'
             "<format>longtext</format></contingentQuestion>")
    path = _write(tmp_path, "<section><question><text>Which?</text>"
                  + _fixed("Q2_SQ001", _category("Red", "Y"))
                  + _fixed("Q2_SQ002", _category("Blue", "Y"))
                  + _fixed("Q2T", _category("Other", "Y", other))
                  + "</question></section>")
    questionnaire, warnings = load_quexml(path)
    assert warnings == []
    assert [i.name for i in questionnaire.items] == ["Q2", "Q2other"]
    question = questionnaire.question("Q2")
    assert _choices(question) == [("Q2_SQ001", "Red"), ("Q2_SQ002", "Blue"), ("Q2T", "Other")]
    assert questionnaire.question("Q2other").other_of == "Q2"


def test_please_specify_on_a_middle_choice_is_left_out(tmp_path: Path) -> None:
    specify = '<contingentQuestion varName="AX"><text>Which</text><length>10</length>' \
              "</contingentQuestion>"
    path = _write(tmp_path, "<section><question><text>Q</text>"
                  + _fixed("A", _category("One", "1", specify), _category("Two", "2"))
                  + "</question></section>")
    questionnaire, warnings = load_quexml(path)
    assert [q.name for q in questionnaire.questions] == ["A"]
    assert warnings == ["question A: the 'please specify' text AX belongs to choice '1', but "
                        "only one beside the last choice can be printed; left out"]


def test_subquestions_with_a_free_response_become_one_box_per_row(tmp_path: Path) -> None:
    path = _write(tmp_path, "<section><question><text>How many of each?</text>"
                  '<subQuestion varName="K_1"><text>Adults</text></subQuestion>'
                  '<subQuestion varName="K_2"><text>Children</text></subQuestion>'
                  '<response varName="K"><free><format>integer</format><length>2</length>'
                  "</free></response></question></section>")
    questionnaire, _ = load_quexml(path)
    assert [(type(i).__name__, i.name, i.label.text()) for i in questionnaire.items] == [
        ("Note", "K", "How many of each?"), ("Question", "K_1", "Adults"),
        ("Question", "K_2", "Children")]
    assert [(q.type, q.cells) for q in questionnaire.questions] == [("integer", 2), ("integer", 2)]


def test_text_lengths_and_dates(tmp_path: Path) -> None:
    def free(var: str, fmt: str, length: int) -> str:
        return (f'<question><text>{var}</text><response varName="{var}"><free><format>{fmt}'
                f"</format><length>{length}</length></free></response></question>")

    path = _write(tmp_path, "<section>" + free("SHORT", "text", 10) + free("LONG", "text", 200)
                  + free("WHEN", "date", 19) + free("COST", "currency", 5) + "</section>")
    questionnaire, _ = load_quexml(path)
    shapes = [(q.name, q.type, q.cells, q.lines, q.charset) for q in questionnaire.questions]
    assert shapes == [("SHORT", "text", 10, 4, "any"), ("LONG", "text", 0, 4, "any"),
                      ("WHEN", "date", 8, 4, "digits"), ("COST", "integer", 5, 4, "digits")]


def test_limesurvey_html_and_interviewer_directives(tmp_path: Path) -> None:
    path = _write(tmp_path, "<section><question>"
                  "<text>&lt;p&gt;Do you &lt;b&gt;agree&lt;/b&gt;?&lt;/p&gt;</text>"
                  "<directive><position>during</position><text>Read out</text>"
                  "<administration>interviewer</administration></directive>"
                  "<directive><position>during</position><text>Tick one</text>"
                  "<administration>self</administration></directive>"
                  + _fixed("A", _category("Yes", "Y"), _category("No", "N"))
                  + "</question></section>",
                  root='<questionnaire id="7" xml:lang="cy">')
    questionnaire, warnings = load_quexml(path)
    question = questionnaire.question("A")
    assert question.label.texts == (("cy", "Do you agree?"),)
    assert question.hint.text() == "Tick one"
    assert questionnaire.languages == ("cy",)
    assert warnings == ["question A: an interviewer instruction is not printed on a "
                        "self-completion form; left out"]


def test_organisation_and_return_address_from_the_data_collector(tmp_path: Path) -> None:
    people = ("<dataCollector><name><firstName>A</firstName><lastName>B</lastName></name>"
              "<organisation>Millbrook District Council</organisation><address>"
              "<street>Town Hall</street><suburb>Millbrook</suburb><postcode>1234</postcode>"
              "<country>UK</country></address><phoneNumber>01234 567890</phoneNumber>"
              "</dataCollector>")
    path = _write(tmp_path, people + "<section><question><text>Q</text>"
                  + _fixed("A", _category("Yes", "Y"), _category("No", "N"))
                  + "</question></section>")
    questionnaire, _ = load_quexml(path)
    assert questionnaire.organisation.text() == "Millbrook District Council"
    assert questionnaire.returns.address.text() == "Millbrook District Council\nTown Hall\n" \
                                            "Millbrook 1234\nUK"
    assert not questionnaire.returns.helpline  # printed as free to call: not assumed


# Errors


def test_malformed_xml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text('<questionnaire id="1"><section></questionnaire>', encoding="utf-8")
    with pytest.raises(TemplateError, match="not well-formed XML") as error:
        load_quexml(path)
    assert str(path) in str(error.value)
    assert "\n" not in str(error.value)


def test_wrong_root_element_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "survey.xml"
    path.write_text("<document><LimeSurveyDocType>Survey</LimeSurveyDocType></document>",
                    encoding="utf-8")
    with pytest.raises(TemplateError, match="root element is <document>") as error:
        load_quexml(path)
    assert str(path) in str(error.value)


def test_missing_id_and_missing_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "<section/>", root="<questionnaire>")
    with pytest.raises(TemplateError, match="has no id attribute"):
        load_quexml(path)
    with pytest.raises(TemplateError, match="does not exist"):
        load_quexml(tmp_path / "absent.xml")


def test_missing_varname_and_duplicate_codes(tmp_path: Path) -> None:
    path = _write(tmp_path, "<section><question><text>Q</text><response><fixed>"
                  + _category("Yes", "Y") + "</fixed></response></question></section>")
    with pytest.raises(TemplateError, match="number 1 has no varName"):
        load_quexml(path)
    path = _write(tmp_path, "<section><question><text>Q</text>"
                  + _fixed("A", _category("Yes", "1"), _category("No", "1"))
                  + "</question></section>")
    with pytest.raises(TemplateError, match="question A: two categories share the value '1'"):
        load_quexml(path)


def test_billion_laughs_is_refused_not_expanded(tmp_path: Path) -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    path = tmp_path / "bomb.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE questionnaire [\n' + "\n".join(entities)
                    + '\n]>\n<questionnaire id="1"><title>&lol9;</title></questionnaire>',
                    encoding="utf-8")
    with pytest.raises(TemplateError, match="refused: it declares XML entities") as error:
        load_quexml(path)
    assert str(path) in str(error.value)


def test_external_entity_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "xxe.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE questionnaire [<!ENTITY x SYSTEM '
                    '"file:///etc/passwd">]>\n<questionnaire id="1"><title>&x;</title>'
                    "</questionnaire>", encoding="utf-8")
    with pytest.raises(TemplateError, match="refused"):
        load_quexml(path)
