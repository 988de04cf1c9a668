"""Keyed entry: responses phoned in or typed from a paper return, keyed once or twice (blind),
settled, and in the dataset. The store on each backend; the review app in Debian's headless
Chromium, by keyboard (tests/review_site.py). Screenshots go to $PAPERTWIN_SCREENSHOTS when set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from pipeline.dataset.export import export_dataset
from pipeline.dataset.keyed import with_keyed
from pipeline.forms.sources import load_questionnaire
from pipeline.ingest.batch import read_chunk
from pipeline.read.page import ReaderSettings
from pipeline.records import Layout
from pipeline.review.accounts import add_user
from pipeline.review.keying import check_entry, key_fields, keyed_value
from pipeline.scan.pdf_images import iter_pdf_pages
from pipeline.publish import build_forms
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import simulate_returns
from pipeline.store.channels import new_channel_response
from pipeline.store.keyed import (
    keyed_response,
    keyed_responses,
    record_decision,
    record_entry,
)
from pipeline.errors import UsageError, WorkspaceError
from pipeline.store.store import Store
from pipeline.workspace import Workspace
from tests.ingesting import ingest_without_flow
from tests.review_site import CHROMIUM_ARGS, PASSWORD, chromium_executable, serving

PROJECT = Path(__file__).resolve().parent.parent
TOWN_CENTRE = PROJECT / "form_templates" / "town_centre.yaml"
WELSH = PROJECT / "form_templates" / "town_centre_xlsform.md"


# -- the store ------------------------------------------------------------------------------------

def test_a_single_entry_is_settled_by_itself_and_a_decision_corrects_it(store: Store) -> None:
    response = new_channel_response(store, "town_centre", "phone", "kim", form_key="k1",
                                    language="en")
    assert keyed_response(store, response.response_id).answers() is None  # not keyed yet
    entry = record_entry(store, response.response_id, 1, {"age": "41", "gender": "woman"}, "kim")
    assert (entry.entry, entry.keyed_by, dict(entry.answers)) == (
        1, "kim", {"age": "41", "gender": "woman"})
    keyed = keyed_response(store, response.response_id)
    assert keyed is not None and keyed.settled
    assert keyed.answers() == {"age": "41", "gender": "woman"}
    with pytest.raises(UsageError, match="keyed once"):
        record_entry(store, response.response_id, 2, {"age": "14"}, "lee")
    with pytest.raises(UsageError, match="keyed already"):
        record_entry(store, response.response_id, 1, {"age": "14"}, "lee")
    record_decision(store, response.response_id, "age", "42", "sam", "called back")
    record_decision(store, response.response_id, "age", "43", "sam", "called again")
    keyed = keyed_response(store, response.response_id)
    assert keyed is not None
    assert keyed.answers() == {"age": "43", "gender": "woman"}  # the latest decision wins
    assert [(d.value, d.why) for d in keyed.decisions] == [("42", "called back"),
                                                         ("43", "called again")]
    assert dict(keyed.entries[0].answers) == {"age": "41", "gender": "woman"}  # as keyed


def test_double_entry_is_settled_where_the_entries_agree_or_by_decision(store: Store) -> None:
    response = new_channel_response(store, "town_centre", "paper-keyed", "sam", form_key="k1",
                                    serial="000004", language="en", double_entry=True)
    rid = response.response_id
    with pytest.raises(UsageError, match="no first entry"):
        record_entry(store, rid, 2, {"age": "41"}, "lee")
    record_entry(store, rid, 1, {"age": "41", "gender": "woman", "postcode": "MB1 1AA",
                                 "comments": "More  buses"}, "kim")
    with pytest.raises(UsageError, match="another person"):
        record_entry(store, rid, 2, {"age": "41"}, "kim")
    with pytest.raises(UsageError, match="not keyed in full"):
        record_decision(store, rid, "age", "41", "sam")
    keyed = keyed_response(store, rid)
    assert keyed is not None and not keyed.settled and keyed.answers() is None
    record_entry(store, rid, 2, {"age": "47", "gender": "man", "postcode": "MB1 1AA",
                                 "comments": "More buses"}, "lee")
    keyed = keyed_response(store, rid)
    assert keyed is not None
    assert keyed.differing == ("age", "gender")  # spacing alone is no difference
    assert keyed.undecided == ("age", "gender") and keyed.answers() is None
    record_decision(store, rid, "age", "47", "sam", "entry 2 kept")
    keyed = keyed_response(store, rid)
    assert keyed is not None and keyed.undecided == ("gender",) and not keyed.settled
    record_decision(store, rid, "gender", "woman", "sam", "entry 1 kept")
    (keyed,) = keyed_responses(store, ["town_centre"])
    assert keyed.settled
    assert keyed.answers() == {"age": "47", "gender": "woman", "postcode": "MB1 1AA",
                               "comments": "More  buses"}
    assert [(e.entry, e.keyed_by) for e in keyed.entries] == [(1, "kim"), (2, "lee")]
    assert keyed_responses(store, ["another"]) == []


def test_only_phone_and_paper_keyed_responses_are_keyed(store: Store) -> None:
    letter = new_channel_response(store, "town_centre", "letter", "kim")
    with pytest.raises(UsageError, match="only phone and paper-keyed"):
        record_entry(store, letter.response_id, 1, {}, "kim")
    with pytest.raises(WorkspaceError, match="no response"):
        record_entry(store, "phone-nothing", 1, {}, "kim")
    assert keyed_responses(store) == []


# -- what is keyed, checked as the reader checks it ---------------------------------------------

@pytest.fixture(scope="module")
def town_centre() -> Layout:
    """The questionnaire as a layout holds it (routed), with no workspace."""
    from pipeline.forms.routing import apply_routing

    routed, _ = apply_routing(load_questionnaire(TOWN_CENTRE).questionnaire)
    return Layout("k", "t", (595.0, 842.0), (), routed)


def test_keyed_values_are_validated_as_the_reader_validates_cells(town_centre: Layout) -> None:
    q = town_centre.questionnaire.question
    assert keyed_value(q("age"), "41") == ("41", "")
    assert keyed_value(q("age"), "150") == ("", "150 is outside the question's limits "
                                                "(. <= 110)")
    assert keyed_value(q("age"), "forty")[1] == "not a number"
    assert keyed_value(q("postcode"), "mb1 1aa") == ("MB1 1AA", "")
    assert keyed_value(q("postcode"), "MB1") == ("", "not a UK postcode")
    assert keyed_value(q("completed_on"), "05/03/2027") == ("2027-03-05", "")
    assert keyed_value(q("completed_on"), "31 02 2027") == ("", "not a date (day, month, year)")
    assert keyed_value(q("travel_mode"), "4, 1") == ("car walk", "")
    assert keyed_value(q("gender"), "1 2") == ("", "this question takes one answer: key one "
                                                   "number")
    assert keyed_value(q("gender"), "7") == ("", "7 is not a choice here: key a number from 1 "
                                                 "to 4")
    assert keyed_value(q("gender"), "prefer_not") == ("prefer_not", "")


def test_the_route_skips_what_the_answers_leave_off_it(town_centre: Layout) -> None:
    checked = check_entry(town_centre.questionnaire, {
        "visit_frequency": "5", "travel_mode": "1", "heard_before": "1", "heard_where": "2",
        "age": "33"})
    assert checked.ok
    assert checked.skipped == ("travel_mode", "travel_mode_other", "visit_reasons")
    assert "travel_mode" not in checked.answers
    assert (checked.answers["visit_frequency"], checked.answers["heard_where"],
            checked.answers["age"]) == ("never", "social_media", "33")
    fields = {f.name: f for f in key_fields(town_centre.questionnaire, "en")}
    assert (fields["heard_where"].number, fields["heard_where"].when) == (
        "6", (("heard_before", "yes", True),))
    assert fields["travel_mode_other"].when == (("travel_mode", "other", True),)
    assert [fields[n].number for n in ("pedestrian_high_street", "library_move")] == ["4", "4"]


def test_the_questions_are_worded_in_the_language_chosen() -> None:
    welsh = load_questionnaire(WELSH).questionnaire
    assert "cy" in welsh.languages
    english = {f.name: f.label for f in key_fields(welsh, "en")}
    cymraeg = {f.name: f.label for f in key_fields(welsh, "cy")}
    assert english["visit_frequency"] == welsh.question("visit_frequency").label.text("en")
    assert cymraeg["visit_frequency"] == welsh.question("visit_frequency").label.text("cy")
    assert cymraeg["visit_frequency"] != english["visit_frequency"]
