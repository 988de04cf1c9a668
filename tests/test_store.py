"""The response store on SQLite and on PostgreSQL: pages assembled into responses across batches,
duplicates, a crash in the middle of a batch and its rerun, the review log, contacts kept apart,
and migrations from the first release's stores. Inputs come from the real pipeline: a built form,
simulated scans cut into files, read once per session and stored into each test's own store."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from itertools import groupby
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, func, inspect, select, text

from pipeline.cli.present import print_batch_summary
from pipeline.errors import WorkspaceError
from pipeline.forms.build import BuiltForm
from pipeline.ingest.batch import (
    BatchSummary,
    FileReading,
    PageChunk,
    join_chunks,
    plan_batch,
    read_chunk,
    store_reading,
    summarise_batch,
)
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings
from pipeline.records import (
    Answer,
    ArchivedFile,
    Layout,
    OnlineRow,
    PageRef,
    PageResult,
    PaperAnswer,
    layout_to_dict,
)
from pipeline.registry import register_layout, registered_layouts
from pipeline.simulate.returns import SimulatedBatch
from pipeline.store import schema
from pipeline.store import store as store_module
from pipeline.store.channels import (
    channel_response,
    channel_responses,
    link_serial,
    new_channel_response,
)
from pipeline.store.forms import registered_forms
from pipeline.store.keyed import record_entry
from pipeline.store.migrate import FIRST_REVISION, alembic_config, head_revision
from pipeline.store.store import Store
from pipeline.workspace import Workspace

from .conftest import TEMPLATE
from .ingesting import register_in_files

ReadingCache = dict[tuple[str, int, int], FileReading]


# -- inputs --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def copies(simulated: SimulatedBatch) -> list[str]:
    """Serials of the simulated copies, in the order their two pages follow in returns.pdf."""
    return [r["serial"] for r in json.loads(simulated.truth_path.read_text())["responses"]]


@pytest.fixture(scope="session")
def scans(simulated: SimulatedBatch, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """returns.pdf (6 copies of 2 pages) cut into the files a mailroom might send:
    first: copy 1 and the first page of copy 2; rest: everything after; again: copy 1's first
    page scanned a second time; gaps: pages 4-11 (copy 2's first page and copy 6's last lost)."""
    out = tmp_path_factory.mktemp("scan-files")
    cuts = {"first": range(1, 4), "rest": range(4, 13), "again": range(1, 2),
            "gaps": range(4, 12)}
    with pikepdf.open(simulated.pdf_path) as whole:
        assert len(whole.pages) == 12
        for name, numbers in cuts.items():
            part = pikepdf.new()
            for number in numbers:
                part.pages.append(whole.pages[number - 1])
            part.save(out / f"{name}.pdf")
    return {name: out / f"{name}.pdf" for name in cuts}


@pytest.fixture(scope="session")
def reading_cache() -> ReadingCache:
    """Readings by file hash and pages: reading does not depend on the store, so each file is
    read once and stored into every test's store."""
    return {}


@pytest.fixture
def ws(built: tuple[Workspace, BuiltForm], store_url: str, tmp_path: Path,
       monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace with the built form registered and its store at store_url."""
    _, form = built
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    # Registered as a workspace made before the register moved into the store (files under
    # layouts/): the store stays empty until the test makes it, as a first release's may be.
    register_in_files(workspace, form.layout)
    assert workspace.store_url == store_url
    return workspace


def run_batch(paths: Sequence[Path], workspace: Workspace, cache: ReadingCache) -> BatchSummary:
    """The ingest flow's steps without Prefect: plan, read each chunk, store each file, sum up."""
    plan = plan_batch(list(paths), workspace)
    stored = []
    for _, group in groupby(plan.chunks, key=lambda chunk: chunk.archived.sha256):
        readings = [_read(chunk, plan.layouts, cache) for chunk in group]
        stored.append(store_reading(join_chunks(readings, plan.layouts, ReaderSettings()),
                                    plan.batch_id, workspace))
    return summarise_batch(plan, stored, workspace)


def _read(chunk: PageChunk, layouts: dict[str, Layout], cache: ReadingCache) -> FileReading:
    key = (chunk.archived.sha256, chunk.first, chunk.last)
    if key not in cache:
        cache[key] = read_chunk(chunk, layouts, ReaderSettings())
    return replace(cache[key], archived=chunk.archived)


def opened(workspace: Workspace) -> Store:
    return Store.open(workspace.store_url)


def answers_of(workspace: Workspace) -> list[tuple[Any, ...]]:
    """Every current paper answer, without the time it was read."""
    store = opened(workspace)
    try:
        layouts = registered_layouts(workspace)
        return [(a.form_key, a.serial, a.page, a.question, a.value, a.confidence,
                 a.needs_review, a.reason, a.source)
                for a in store.paper_answers(list(layouts))]
    finally:
        store.close()


def responses_of(workspace: Workspace) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """serial -> (pages present, pages missing)."""
    store = opened(workspace)
    try:
        return {r.serial: (r.pages_present, r.pages_missing)
                for r in store.responses(registered_layouts(workspace))}
    finally:
        store.close()



@contextmanager
def engine_of(url: str) -> Iterator[Engine]:
    """An engine on the store at url, disposed afterwards, for looking beneath the Store API."""
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()

def count_rows(url: str, table: str) -> int:
    with engine_of(url) as engine, engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(
            schema.metadata.tables[table])).scalar_one())


# -- responses -----------------------------------------------------------------------------------

def test_a_copy_split_over_two_batches_is_incomplete_then_complete(
        ws: Workspace, scans: dict[str, Path], copies: list[str],
        reading_cache: ReadingCache) -> None:
    first = run_batch([scans["first"]], ws, reading_cache)
    assert first.outcomes == {"identified": 3}
    assert responses_of(ws) == {copies[0]: ((1, 2), ()), copies[1]: ((1,), (2,))}
    assert [(r.serial, r.pages_missing, r.complete) for r in first.incomplete] == [
        (copies[1], (2,), False)]
    out = io.StringIO()
    print_batch_summary(first, out)
    assert f"serial {copies[1]} of {first.incomplete[0].form_key}: page 2 missing" in out.getvalue()

    second = run_batch([scans["rest"]], ws, reading_cache)
    assert second.outcomes == {"identified": 9}
    assert second.incomplete == ()
    assert responses_of(ws) == {serial: ((1, 2), ()) for serial in copies}
    assert {a[1] for a in answers_of(ws)} == set(copies)


def test_pages_never_scanned_are_listed_missing(
        ws: Workspace, scans: dict[str, Path], copies: list[str],
        reading_cache: ReadingCache) -> None:
    summary = run_batch([scans["gaps"]], ws, reading_cache)
    responses = responses_of(ws)
    assert responses[copies[1]] == ((2,), (1,))
    assert responses[copies[5]] == ((1,), (2,))
    assert all(responses[s] == ((1, 2), ()) for s in copies[2:5])
    assert copies[0] not in responses  # nothing of it was scanned: no response at all
    assert sorted((r.serial, r.pages_missing) for r in summary.incomplete) == sorted(
        [(copies[1], (1,)), (copies[5], (2,))])
    assert {a[2] for a in answers_of(ws) if a[1] == copies[5]} == {1}


def test_a_page_scanned_twice_keeps_the_first_reading(
        ws: Workspace, scans: dict[str, Path], copies: list[str],
        reading_cache: ReadingCache) -> None:
    run_batch([scans["first"]], ws, reading_cache)
    before = answers_of(ws)
    again = run_batch([scans["again"]], ws, reading_cache)
    assert [(p.outcome, p.serial, p.page) for p in again.pages] == [("duplicate", copies[0], 1)]
    assert "already read from first.pdf p1" in again.pages[0].reason
    assert answers_of(ws) == before
    assert responses_of(ws)[copies[0]] == ((1, 2), ())


# -- crash and rerun -----------------------------------------------------------------------------

def test_a_crash_while_storing_a_file_leaves_it_out_whole_and_a_rerun_finishes_the_batch(
        ws: Workspace, scans: dict[str, Path], reading_cache: ReadingCache,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        built: tuple[Workspace, BuiltForm]) -> None:
    # The store checks every page for an earlier copy just before inserting it; fail there on the
    # fifth page of the second file, when four of its pages are already written in its
    # transaction.
    real_check = store_module._mark_duplicate
    checked: list[int] = []

    def check_then_fail(conn: Any, result: Any) -> Any:
        checked.append(result.ref.index)
        if len(checked) == 3 + 5:
            raise OSError("simulated power cut while storing")
        return real_check(conn, result)

    monkeypatch.setattr(store_module, "_mark_duplicate", check_then_fail)
    with pytest.raises(OSError, match="power cut"):
        run_batch([scans["first"], scans["rest"]], ws, reading_cache)
    monkeypatch.setattr(store_module, "_mark_duplicate", real_check)

    store = opened(ws)
    try:
        outcomes = store.page_outcomes()
        assert [(o["name"], o["page_index"]) for o in outcomes] == [
            ("first.pdf", 1), ("first.pdf", 2), ("first.pdf", 3)]
        rest = {r.archived.sha256 for r in reading_cache.values()
                if r.archived.name == "rest.pdf"}
        assert [store.file_status(sha) for sha in rest] == [None]
    finally:
        store.close()
    url = ws.store_url
    assert count_rows(url, "files") == 1
    assert count_rows(url, "pages") == 3

    rerun = run_batch([scans["first"], scans["rest"]], ws, reading_cache)
    assert (rerun.files_read, rerun.files_already_read) == (1, 1)
    assert count_rows(url, "pages") == 12

    # The same answers as one clean run of the batch, in a store of its own.
    clean = Workspace.resolve(tmp_path / "clean").ensure()
    monkeypatch.setenv("PAPERTWIN_STORE_URL", f"sqlite:///{tmp_path / 'clean.sqlite'}")
    register_layout(clean, built[1].layout)
    run_batch([scans["first"], scans["rest"]], clean, reading_cache)
    reference = answers_of(clean)
    monkeypatch.setenv("PAPERTWIN_STORE_URL", url)
    assert answers_of(ws) == reference
    assert len(reference) == len({a[:4] for a in reference}) > 0


# -- review log ----------------------------------------------------------------------------------

def test_review_decisions_are_a_log_from_which_the_current_value_follows(
        ws: Workspace, scans: dict[str, Path], reading_cache: ReadingCache) -> None:
    run_batch([scans["first"]], ws, reading_cache)
    store = opened(ws)
    try:
        form_keys = list(registered_layouts(ws))
        read = store.paper_answers(form_keys)
        target = next((a for a in read if a.needs_review), read[0])
        key = (target.form_key, target.serial, target.question)

        first = store.record_decision(*key, new_value="yes", reviewer="alice",
                                      why="tick clear on the paper")
        assert (first.old_value, first.new_value, first.reviewer) == (target.value, "yes",
                                                                      "alice")
        now = _answer(store.paper_answers(form_keys), key)
        assert (now.value, now.needs_review, now.flag, now.decided_by, now.read_value) == (
            "yes", False, "", "alice", target.value)

        second = store.record_decision(*key, new_value="no", reviewer="bob",
                                       why="the tick is a crossed-out mistake")
        assert second.old_value == "yes" and second.id > first.id
        assert _answer(store.paper_answers(form_keys), key).value == "no"
        assert store.review_log(target.form_key) == [first, second]
        assert store.review_log(target.form_key, target.serial, target.question) == [first,
                                                                                     second]
        assert store.review_log(target.form_key, "999999") == []

        untouched = [a for a in store.paper_answers(form_keys)
                     if (a.form_key, a.serial, a.question) != key]
        assert untouched == [a for a in read if (a.form_key, a.serial, a.question) != key]

        with pytest.raises(WorkspaceError, match="nothing to decide"):
            store.record_decision(target.form_key, target.serial, "no_such_question", "x",
                                  "alice")
        with pytest.raises(WorkspaceError, match="reviewer"):
            store.record_decision(*key, new_value="x", reviewer=" ")
    finally:
        store.close()
    assert count_rows(ws.store_url, "review_decisions") == 2


def _answer(answers: list[PaperAnswer], key: tuple[str, str, str]) -> PaperAnswer:
    return next(a for a in answers if (a.form_key, a.serial, a.question) == key)


# -- contacts ------------------------------------------------------------------------------------

def test_contacts_of_an_addressed_mailing_are_stored_apart(
        ws: Workspace, tmp_path: Path, scans: dict[str, Path], copies: list[str],
        reading_cache: ReadingCache) -> None:
    recipients = tmp_path / "recipients.csv"
    recipients.write_text("name,address1,town,postcode,ward\n"
                          "Ada Pennyworth,1 Mill Lane,Ashby,AB1 2CD,North\n"
                          "Bryn Tallow,2 Weir Road,Ashby,AB1 3EF,South\n", encoding="utf-8")
    form = build_forms(TEMPLATE, None, tmp_path / "mailing", ws, recipients_file=recipients)
    serials = [c.serial for c in form.layout.copies]
    run_batch([scans["first"]], ws, reading_cache)  # answers of the anonymous copies beside them

    store = opened(ws)
    try:
        assert store.contacts(form.layout.form_key) == {
            serials[0]: {"name": "Ada Pennyworth", "address1": "1 Mill Lane", "town": "Ashby",
                         "postcode": "AB1 2CD", "ward": "North"},
            serials[1]: {"name": "Bryn Tallow", "address1": "2 Weir Road", "town": "Ashby",
                         "postcode": "AB1 3EF", "ward": "South"},
        }
        # The copies printed anonymously before (the scanned ones) have no contact.
        assert not {copies[0], copies[1]} & set(store.contacts(form.layout.form_key))
        answers = store.paper_answers(list(registered_layouts(ws)))
        assert {a.serial for a in answers} == {copies[0], copies[1]}
        assert all("Pennyworth" not in repr(a) for a in answers)
        assert store.contacts("no-such-form") == {}
        # One copy's recipient, as the review app shows a supervisor.
        assert store.contact(form.layout.form_key, serials[1]) == \
            store.contacts(form.layout.form_key)[serials[1]]
        assert store.contact(form.layout.form_key, copies[0]) is None
    finally:
        store.close()
    engine = create_engine(ws.store_url)
    try:
        with engine.connect() as conn:
            for table in schema.metadata.sorted_tables:
                rows = repr(conn.execute(select(table)).all())
                assert ("Pennyworth" in rows) == (table.name == "contacts"), table.name
    finally:
        engine.dispose()


# -- migrations ----------------------------------------------------------------------------------

def make_first_release_store(url: str) -> None:
    """What the first release's Store.open made: its tables (revision 0001 writes them out as
    they were, whatever later revisions add), store_info schema=1, no alembic_version table."""
    with engine_of(url) as engine:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), FIRST_REVISION)
            conn.execute(text("DROP TABLE alembic_version"))
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO batches (started_at, inputs) VALUES "
                              "('2026-01-05T09:00:00+00:00', '[\"returns-week1.pdf\"]')"))


def revision_of(url: str) -> str:
    with engine_of(url) as engine, engine.connect() as conn:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def test_a_new_store_is_at_head_and_matches_the_schema(store_url: str) -> None:
    Store.open(store_url).close()
    assert revision_of(store_url) == head_revision() == "0012"
    with engine_of(store_url) as engine, engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
    Store.open(store_url).close()  # opening again changes nothing
    assert count_rows(store_url, "store_info") == 1


def test_a_first_release_store_is_stamped_and_upgraded(
        ws: Workspace, store_url: str, scans: dict[str, Path], copies: list[str],
        reading_cache: ReadingCache) -> None:
    make_first_release_store(store_url)
    with engine_of(store_url) as engine:
        assert "alembic_version" not in inspect(engine).get_table_names()

    run_batch([scans["first"]], ws, reading_cache)  # plan_batch opens (and migrates) the store
    assert revision_of(store_url) == head_revision()
    assert count_rows(store_url, "batches") == 2  # the first release's batch is still there
    with engine_of(store_url) as engine, engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
    store = opened(ws)
    try:
        answer = store.paper_answers(list(registered_layouts(ws)))[0]
        store.record_decision(answer.form_key, answer.serial, answer.question, "checked",
                              "alice", "after the upgrade")
        assert len(store.review_log()) == 1
    finally:
        store.close()
    assert responses_of(ws)[copies[0]] == ((1, 2), ())


def test_the_serials_a_form_was_issued_before_0012_run_from_one(
        store_url: str, built: tuple[Workspace, BuiltForm]) -> None:
    layout = built[1].layout
    with engine_of(store_url) as engine, engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0011")
        conn.execute(schema.forms.insert().values(
            form_key=layout.form_key, issued=4, registered_at="2026-01-05T09:00:00+00:00",
            layout=json.dumps(layout_to_dict(replace(layout, copies=())))))
    with Store.open(store_url) as store:  # migrated to the head
        form = registered_forms(store)[layout.form_key]
        assert form.ranges == ((1, 4),)
        assert form.serials == ("000001", "000002", "000003", "000004")


def test_a_store_of_a_newer_papertwin_is_refused(store_url: str) -> None:
    Store.open(store_url).close()
    with engine_of(store_url) as engine, engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(WorkspaceError, match=r"revision 0099.*newer papertwin"):
        Store.open(store_url)
    with pytest.raises(WorkspaceError, match=r"revision 0099.*newer papertwin"):
        Store.open(store_url, read_only=True)  # export says the same


def test_a_database_that_is_not_a_papertwin_store_is_left_alone(store_url: str) -> None:
    with engine_of(store_url) as engine, engine.begin() as conn:
        conn.execute(text("CREATE TABLE pages (id INTEGER PRIMARY KEY, note TEXT)"))
    with pytest.raises(WorkspaceError, match="not a papertwin store"):
        Store.open(store_url)
    with engine_of(store_url) as engine:
        assert set(inspect(engine).get_table_names()) == {"pages"}


def test_an_unversioned_store_of_an_unknown_schema_is_refused(store_url: str) -> None:
    make_first_release_store(store_url)
    with engine_of(store_url) as engine, engine.begin() as conn:
        conn.execute(text("UPDATE store_info SET value = '7' WHERE key = 'schema'"))
    with pytest.raises(WorkspaceError, match="schema '7'"):
        Store.open(store_url)


# -- online rows ---------------------------------------------------------------------------------

def test_an_online_export_imported_again_replaces_its_rows(store_url: str) -> None:
    """70,000 rows: more than PostgreSQL takes as parameters of one statement."""
    rows = [OnlineRow(f"r{i:05d}", "2026-02-01T10:00:00", "", {"visit_frequency": "weekly"},
                      f"export.csv row {i + 2}") for i in range(70_000)]
    store = Store.open(store_url)
    try:
        assert store.replace_online("library_services", rows) == 70_000
        changed = [replace(rows[5], answers={"visit_frequency": "never"}),
                   OnlineRow("r99999", "2026-02-02T10:00:00", "000004", {}, "late.csv row 2")]
        store.replace_online("library_services", [*rows, *changed])
        stored = store.online_rows("library_services")
        assert len(stored) == 70_001
        by_id = {r.response_id: r for r in stored}
        assert by_id["r00005"].answers == {"visit_frequency": "never"}
        assert by_id["r00006"].answers == {"visit_frequency": "weekly"}
        assert by_id["r99999"].respondent_ref == "000004"
        assert store.online_rows("town_centre") == []
    finally:
        store.close()


def test_responses_on_other_channels_are_kept_with_their_serial(store_url: str) -> None:
    store = Store.open(store_url)
    try:
        phoned = new_channel_response(store, "library_services", "phone", "amira",
                                      language="cy", note="advocate on the line")
        keyed = new_channel_response(store, "library_services", "paper-keyed", "ben",
                                     form_key="library_services-v1-x", serial="000007",
                                     double_entry=True)
        new_channel_response(store, "town_centre", "letter", "ben")
        with pytest.raises(WorkspaceError, match="unknown channel 'fax'"):
            new_channel_response(store, "library_services", "fax", "ben")
        link_serial(store, phoned.response_id, "000003")
        with pytest.raises(WorkspaceError, match="no response nobody"):
            link_serial(store, "nobody", "000003")
        listed = channel_responses(store, ["library_services"])
        assert sorted((r.channel, r.serial, r.created_by) for r in listed) == [
            ("paper-keyed", "000007", "ben"), ("phone", "000003", "amira")]
        listed = sorted(listed, key=lambda r: r.channel, reverse=True)
        assert listed[0].language == "cy" and listed[0].note == "advocate on the line"
        assert channel_response(store, keyed.response_id) == keyed
        assert len({phoned.response_id, keyed.response_id}) == 2
        assert [r.questionnaire_id for r in channel_responses(store, channel="letter")] == [
            "town_centre"]
        assert channel_response(store, "nobody") is None
        # received: a letter, or a keying saved once; the phone call keyed is, the return
        # opened for keying and never saved is not
        record_entry(store, phoned.response_id, 1, {"visit_frequency": "weekly"}, "amira")
        letters = {r.response_id for r in channel_responses(store, channel="letter")}
        assert {r.response_id for r in channel_responses(store, received=True)} == {
            phoned.response_id, *letters}
    finally:
        store.close()

# -- answers continued over pages, and large files -----------------------------------------------

def test_a_decision_on_an_answer_continued_over_two_pages_gives_the_value_once(
        store_url: str, tmp_path: Path) -> None:
    """Comments that run from page 2 onto page 3: the dataset joins the pages' text; after a
    decision, joining gives the decided text once."""
    archived = ArchivedFile("ab" * 32, "post.pdf", tmp_path / "post.pdf", tmp_path / "a.pdf",
                            "pdf", 3 * 2**30)  # 3 GiB: more than a 32-bit column holds
    pages = [PageResult(PageRef(archived.sha256, archived.name, index), "identified",
                        form_key="consultation-v1-0123456789", serial="000042", page=index,
                        answers=(Answer("comments", text, 0.6, True, "text: unsure of the hand"),))
             for index, text in ((2, "the library should open"), (3, "on sundays"))]
    store = Store.open(store_url)
    try:
        batch = store.begin_batch(["post.pdf"])
        store.record_file(batch, archived, pages, tmp_path / "crops")
        assert store.file_status(archived.sha256) == ("read", "")
        read = store.paper_answers(["consultation-v1-0123456789"])
        assert [a.value for a in read] == ["the library should open", "on sundays"]

        decision = store.record_decision("consultation-v1-0123456789", "000042", "comments",
                                         "the library should open on Sundays", "alice")
        assert decision.old_value == "the library should open on sundays"
        now = store.paper_answers(["consultation-v1-0123456789"])
        assert [(a.page, a.value, a.needs_review, a.read_value) for a in now] == [
            (2, "the library should open on Sundays", False, "the library should open"),
            (3, "", False, "on sundays")]
    finally:
        store.close()
    with engine_of(store_url) as engine, engine.connect() as conn:
        assert conn.execute(select(schema.files.c.size)).scalar_one() == 3 * 2**30


def test_a_store_that_cannot_be_reached_is_named_without_its_password() -> None:
    with pytest.raises(WorkspaceError, match="cannot open the store") as caught:
        Store.open("postgresql+psycopg://papertwin:s3cret@127.0.0.1:1/consultation")
    assert "s3cret" not in str(caught.value) and "127.0.0.1" in str(caught.value)
    with pytest.raises(WorkspaceError, match="postgresql\\+psycopg://"):
        Store.open("not a url")
