"""The tracking of a mailing: copies printed per variant, returns per channel, ISO week and
postcode district, the copies not yet returned; `papertwin report`, its files, the line in the
export's summary and the artifacts the reconcile flow publishes."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
from pathlib import Path
from typing import Any
from uuid import UUID

import pandas as pd
import pytest
from PIL import Image
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from flows.cli import main
from flows.reconcile import reconcile
from pipeline.cli import present
from pipeline.dataset.chart import returns_chart
from pipeline.dataset.export import export_dataset
from pipeline.dataset.report import (
    TrackingReport,
    tracking_markdown,
    tracking_report,
    tracking_tables,
)
from pipeline.dataset.tracking import (
    DistrictReturns,
    MailedForm,
    Tracking,
    VariantReturns,
    WeekReturns,
    contact_district,
    iso_week,
    track,
)
from pipeline.forms.layout import LayoutOptions
from pipeline.online import import_online_export
from pipeline.publish import build_forms
from pipeline.records import ArchivedFile, OnlineRow, PageRef, PageResult
from pipeline.registry import register_layout, registered_layouts
from pipeline.store.channels import new_channel_response
from pipeline.store.keyed import record_entry
from pipeline.store.store import PaperReturn, Store
from pipeline.workspace import Workspace

from .conftest import TEMPLATE

STANDARD_LIST = """\
name,address,postcode
Ann,1 Bute St,CF10 1AA
Bob,2 Bute St,CF10 1AB
Cai,3 Bute St,cf10 2bb
Dee,4 Bute St,CF10 3DE
Eli,5 Bute St,CF10 4DD
Fay,6 Ely Rd,CF3 0AA
Gus,7 Ely Rd,CF3 1BB
Hal,"The Farm, Nowhere",
"""
# Large print, the postcode written in the address itself.
LARGE_PRINT_LIST = """\
name,address
Ivy,"1 Quay St
Cardiff CF10 1EP"
Jon,"2 Quay St
Cardiff CF101EQ"
Kim,"3 High St
Newport NP20 1AA"
"""
ONLINE = """\
response_id,submitted_at,respondent_ref,visit_frequency
o-1,2026-11-10T08:00:00Z,000004,weekly
o-2,2026-11-11T08:00:00Z,000001,daily
o-3,2026-11-12 08:00:00,000006,weekly
o-4,2026-11-18T08:00:00Z,,never
o-5,2026-11-19T08:00:00Z,000099,never
"""
PRINTED = """\
returns of library_services:
  11 copies printed, 5 returned (45.5%): 4 on paper, 2 online; 6 not yet returned
  and 2 online responses not from the mailing

copies by variant
  variant      languages  printed  addressed  paper  online  returned  not returned   rate
  standard     en               8          8      3       2         4             4  50.0%
  large print  en               3          3      1       0         1             2  33.3%
  all                          11         11      4       2         5             6  45.5%

responses by channel
  channel                       responses
  paper                                 4
  paper, other                          0
  online                                2
  online, variant unknown               1
  online, not from the mailing          2
  paper, keyed                          0
  phone                                 0
  letter                                0

responses by ISO week of return (paper: first page read; online: submitted)
  week      paper  online  online, variant unknown  online, not from the mailing  total
  2026-W45      3       0                        0                             0      3
  2026-W46      0       2                        1                             0      3
  2026-W47      1       0                        0                             2      3

addressed copies by postcode district (districts of fewer than 5 copies counted as other)
  district  addressed  paper  online  returned   rate
  CF10              7      3       1         4  57.1%
  other             3      1       1         1  33.3%
  unknown           1      0       0         0   0.0%
"""
WEEK_45, WEEK_47 = "2026-11-03T09:00:00+00:00", "2026-11-17T09:00:00+00:00"


def _store_pages(workspace: Workspace, name: str, pages: list[tuple[str, str, int]],
                 read_at: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages (form key, serial, page) identified in one scan file, read at `read_at`."""
    monkeypatch.setattr("pipeline.store.store.now_iso", lambda: read_at)
    results = [PageResult(PageRef("b" * 64, name, index), "identified", form_key=key,
                          serial=serial, page=page)
               for index, (key, serial, page) in enumerate(pages, start=1)]
    archived = ArchivedFile(name.encode().hex().ljust(64, "0")[:64], name,
                            workspace.root / name, workspace.root / "archive.pdf", "pdf", 1000)
    with Store.open(workspace.store_url) as store:
        store.record_file(store.begin_batch([name]), archived, results, workspace.crops_dir)
    monkeypatch.undo()


@pytest.fixture
def mailing(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """Eight standard copies and three large print ones, addressed (serials 1-8 and 1-3); four
    returned on paper in two weeks, five online responses: two naming a standard copy (one also
    back on paper), one a serial printed in both variants, one no reference and one a serial
    never printed."""
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    workspace = Workspace.resolve(tmp_path / "ws")
    (tmp_path / "standard.csv").write_text(STANDARD_LIST)
    (tmp_path / "large.csv").write_text(LARGE_PRINT_LIST)
    standard = build_forms(TEMPLATE, None, tmp_path / "standard", workspace,
                           recipients_file=tmp_path / "standard.csv").layout.form_key
    # The large print copies were printed from another workspace and registered here, as
    # before a questionnaire's forms shared one run of serials: their serials 1-3 are printed
    # in both variants.
    with monkeypatch.context() as patch:
        patch.delenv("PAPERTWIN_STORE_URL")  # the other workspace's own store
        large_layout = build_forms(TEMPLATE, None, tmp_path / "large",
                                   Workspace.resolve(tmp_path / "elsewhere"),
                                   LayoutOptions(large_print=True),
                                   recipients_file=tmp_path / "large.csv").layout
    register_layout(workspace, large_layout)
    large = large_layout.form_key
    with Store.open(workspace.store_url) as store:
        store.record_contacts(large, {row["serial"]: row for row in csv.DictReader(
            (tmp_path / "large" / "contacts.csv").open(newline="", encoding="utf-8"))})
    with monkeypatch.context() as patch:
        _store_pages(workspace, "week45.pdf", [(standard, "000001", 1), (standard, "000001", 2),
                                               (standard, "000002", 1), (large, "000001", 1)],
                     WEEK_45, patch)
        # Copy 000002's second page comes later: its return counts in the week of its first.
        _store_pages(workspace, "week47.pdf", [(standard, "000006", 2), (standard, "000002", 2)],
                     WEEK_47, patch)
    (tmp_path / "online.csv").write_text(ONLINE)
    import_online_export(tmp_path / "online.csv", workspace)
    return workspace


EXPECTED = Tracking(
    questionnaire_id="library_services",
    variants=(
        VariantReturns("standard", "en", printed=8, addressed=8, paper=3, online=2,
                       returned=4),
        VariantReturns("large print", "en", printed=3, addressed=3, paper=1, online=0,
                       returned=1),
    ),
    channels=(("paper", 4), ("paper_other", 0), ("online", 2), ("online_variant_unknown", 1),
              ("online_other", 2), ("paper_keyed", 0), ("phone", 0), ("letter", 0)),
    weeks=(
        WeekReturns("2026-W45", (3, 0, 0, 0, 0, 0, 0, 0)),
        WeekReturns("2026-W46", (0, 0, 2, 1, 0, 0, 0, 0)),
        WeekReturns("2026-W47", (1, 0, 0, 0, 2, 0, 0, 0)),
    ),
    # CF3 (2 copies) and NP20 (1) are too small to show: counted together as "other".
    districts=(
        DistrictReturns("CF10", addressed=7, paper=3, online=1, returned=4),
        DistrictReturns("other", addressed=3, paper=1, online=1, returned=1),
        DistrictReturns("unknown", addressed=1, paper=0, online=0, returned=0),
    ),
)


def test_copies_out_and_back_per_variant_channel_week_and_district(mailing: Workspace) -> None:
    tracking = tracking_report(mailing).tracking
    assert tracking == EXPECTED
    total = tracking.total
    assert (total.printed, total.returned, total.not_returned) == (11, 5, 6)
    assert [v.not_returned for v in tracking.variants] == [4, 2]
    assert [round(v.rate or 0, 3) for v in tracking.variants] == [0.5, 0.333]


def test_the_export_summary_carries_the_tracking(mailing: Workspace, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    summary = export_dataset(mailing, tmp_path / "dataset.csv")
    assert summary.tracking == EXPECTED
    present.exported(summary, with_contacts=False)
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "  the mailing: 11 copies printed, 5 returned (45.5%): 4 on paper, 2 online; 6 not yet "
        "returned",
        "  and 2 online responses not from the mailing"]


def test_report_prints_the_tables_and_writes_csv_and_a_chart(
    prefect_harness: None, mailing: Workspace, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "report"
    code = main(["--workspace", str(mailing.root), "report", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    written = "".join(f"wrote {out / name}\n" for name in (
        "tracking-variants.csv", "tracking-channels.csv", "tracking-weeks.csv",
        "tracking-districts.csv", "tracking-returns-by-week.png"))
    assert printed == PRINTED + "\n" + written

    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(out / f"tracking-{name}.csv", dtype=str, keep_default_na=False)

    assert read("variants").to_dict("records")[2] == {
        "variant": "all", "languages": "", "printed": "11", "addressed": "11",
        "returned_paper": "4", "returned_online": "2", "returned_keyed": "0",
        "returned_letter": "0", "returned": "5", "not_returned": "6", "rate": "0.455"}
    assert read("weeks").values.tolist() == [
        ["2026-W45", "3", "0", "0", "0", "0", "0", "0", "0", "3"],
        ["2026-W46", "0", "0", "2", "1", "0", "0", "0", "0", "3"],
        ["2026-W47", "1", "0", "0", "0", "2", "0", "0", "0", "3"],
    ]
    assert list(read("weeks").columns) == ["week", "paper", "paper_other", "online",
                                           "online_variant_unknown", "online_other",
                                           "paper_keyed", "phone", "letter", "total"]
    assert read("districts")["district"].tolist() == ["CF10", "other", "unknown"]
    assert read("channels")["responses"].tolist() == ["4", "0", "2", "1", "2", "0", "0", "0"]
    with Image.open(out / "tracking-returns-by-week.png") as chart:
        assert (chart.format, chart.size) == ("PNG", (1000, 500))


async def _artifacts(flow_run_id: UUID) -> dict[str, Any]:
    async with get_client() as client:
        found = await client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {artifact.type or "": artifact for artifact in found}


def test_reconcile_publishes_the_tracking_as_artifacts(prefect_harness: None,
                                                       mailing: Workspace,
                                                       tmp_path: Path) -> None:
    state = reconcile(tmp_path / "online.csv", mailing, return_state=True)
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    artifacts = asyncio.run(_artifacts(flow_run_id))
    assert set(artifacts) == {"markdown", "image"}
    markdown = artifacts["markdown"].data
    assert "# Returns of library\\_services" in markdown
    assert "| standard | en | 8 | 8 | 3 | 2 | 0 | 0 | 4 | 4 | 0.5 |" in markdown
    assert "| 2026-W47 | 1 | 0 | 0 | 0 | 2 | 0 | 0 | 0 | 3 |" in markdown
    image = artifacts["image"].data
    assert image.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(image.split(",", 1)[1]))) as chart:
        assert chart.size == (1000, 500)


# -- the pure function -------------------------------------------------------------------------

def serials(first: int, last: int) -> frozenset[str]:
    return frozenset(f"{n:06d}" for n in range(first, last + 1))


def test_languages_photocopies_and_references_in_several_variants() -> None:
    """A Welsh and English variant beside the English one; a further response on a photocopy
    and a form printed elsewhere count as paper, not a mailed copy; a reference printed in two
    variants is not given to either."""
    forms = [MailedForm("q-v1-aaa", False, ("en",), serials(1, 4)),
             MailedForm("q-v1-bbb", False, ("cy", "en"), serials(1, 2)),
             MailedForm("q-v1-ccc", False, ("en",), frozenset())]  # printed by another system
    paper = [PaperReturn("q-v1-aaa", "000003", "000003", "2027-01-04T10:00:00+00:00"),
             PaperReturn("q-v1-aaa", "000003-2", "000003", "2027-01-05T10:00:00+00:00"),
             PaperReturn("q-v1-bbb", "000002", "000002", "2026-12-28T10:00:00+00:00"),
             PaperReturn("q-v1-ccc", "000001", "000001", "2027-01-04T10:00:00+00:00")]
    online = [OnlineRow("w1", "2027-01-06", "000004", {}, "x"),
              OnlineRow("w2", "2027-01-06", "000002", {}, "x"),
              OnlineRow("w3", "not a date", "000003", {}, "x")]
    tracking = track("q", forms, paper, online, {})
    assert tracking.variants == (
        VariantReturns("standard", "cy+en", 2, 0, paper=1, online=0, returned=1),
        VariantReturns("standard", "en", 4, 0, paper=1, online=2, returned=2),
    )
    assert tracking.channels == (("paper", 2), ("paper_other", 2), ("online", 2),
                                 ("online_variant_unknown", 1), ("online_other", 0),
                                 ("paper_keyed", 0), ("phone", 0), ("letter", 0))
    # 2026-W53 runs into January 2027; the weeks between are rows of noughts.
    assert tracking.weeks == (WeekReturns("2026-W53", (1, 0, 0, 0, 0, 0, 0, 0)),
                              WeekReturns("2027-W01", (1, 2, 1, 1, 0, 0, 0, 0)),
                              WeekReturns("unknown", (0, 0, 1, 0, 0, 0, 0, 0)))
    assert tracking.districts == ()


def test_a_variant_printed_after_another_counts_its_own_serials(tmp_path: Path) -> None:
    """A questionnaire's variants share one run of serials: the large print copies printed
    after eight standard ones are 9-11, and the tracking counts each variant's own."""
    workspace = Workspace.resolve(tmp_path / "ws")
    build_forms(TEMPLATE, 8, tmp_path / "standard", workspace)
    large = build_forms(TEMPLATE, 3, tmp_path / "large", workspace,
                        LayoutOptions(large_print=True)).layout
    assert [c.serial for c in large.copies] == ["000009", "000010", "000011"]
    with pytest.MonkeyPatch.context() as patch:
        _store_pages(workspace, "back.pdf", [(large.form_key, "000010", 1)], WEEK_45, patch)
    tracking = tracking_report(workspace).tracking
    assert [(v.variant, v.printed, v.paper, v.returned) for v in tracking.variants] == [
        ("standard", 8, 0, 0), ("large print", 3, 1, 1)]
    assert dict(tracking.channels)["paper"] == 1


def test_a_week_without_returns_is_a_row_of_noughts() -> None:
    forms = [MailedForm("k", True, ("en",), serials(1, 1))]
    online = [OnlineRow("a", "2026-11-02", "", {}, "x"), OnlineRow("b", "2026-11-23", "", {}, "x")]
    assert [(w.week, w.total) for w in track("q", forms, [], online, {}).weeks] == [
        ("2026-W45", 1), ("2026-W46", 0), ("2026-W47", 0), ("2026-W48", 1)]


def test_iso_weeks_and_districts_as_written() -> None:
    assert iso_week("2026-12-31T23:30:00-05:00") == "2026-W53"
    assert iso_week("2027-01-01") == "2026-W53"
    assert iso_week("01/02/2027") == "unknown"
    assert contact_district({"name": "A", "Post code": "sw1a1aa", "address": "x CF10 1AA"}) \
        == "SW1A"
    assert contact_district({"name": "A", "address1": "Cardiff CF10 1AA", "town": "x"}) == "CF10"
    assert contact_district({"name": "CF10 1AA", "address": "nowhere"}) == "unknown"


# -- keyed, phoned and letter responses ---------------------------------------------------------

WEEK_48 = "2026-11-24T09:00:00+00:00"
PRINTED_WITH_KEYED = """\
returns of library_services:
  11 copies printed, 8 returned (72.7%): 4 on paper, 2 online, 3 keyed, 1 by letter; 3 not yet returned
  and 2 online responses not from the mailing

copies by variant
  variant      languages  printed  addressed  paper  online  keyed  letter  returned  not returned   rate
  standard     en               8          8      3       2      2       1         6             2  75.0%
  large print  en               3          3      1       0      1       0         2             1  66.7%
  all                          11         11      4       2      3       1         8             3  72.7%

responses by channel
  channel                       responses
  paper                                 4
  paper, other                          0
  online                                2
  online, variant unknown               1
  online, not from the mailing          2
  paper, keyed                          2
  phone                                 3
  letter                                2

responses by ISO week of return (paper: first page read; online: submitted; keyed, phone and letters: registered)
  week      paper  online  online, variant unknown  online, not from the mailing  paper, keyed  phone  letter  total
  2026-W45      3       0                        0                             0             0      0       0      3
  2026-W46      0       2                        1                             0             0      0       0      3
  2026-W47      1       0                        0                             2             1      1       0      5
  2026-W48      0       0                        0                             0             1      2       2      5

addressed copies by postcode district (districts of fewer than 5 copies counted as other)
  district  addressed  paper  online  keyed  letter  returned   rate
  CF10              7      3       1      3       0         6  85.7%
  other             3      1       1      0       1         2  66.7%
  unknown           1      0       0      0       0         0   0.0%
"""  # noqa: E501


def test_keyed_phoned_and_letter_responses_count_as_channels_and_returned_copies(
    mailing: Workspace, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Phoned-in, keyed and letter responses count in the channels and weeks of when they were
    registered; those naming a serial return that copy, once whatever else came back for it (a
    keyed return waiting for its second entry included); one naming a serial printed in both
    variants, with no form to tell which, returns no copy."""
    layouts = sorted(registered_layouts(mailing).values(), key=lambda layout: layout.large_print)
    standard, large = (layout.form_key for layout in layouts)
    with Store.open(mailing.store_url) as store, monkeypatch.context() as patch:
        def respond(when: str, channel: str, form_key: str = "", serial: str = "",
                    double_entry: bool = False) -> None:
            patch.setattr("pipeline.store.channels.now_iso", lambda: when)
            opened = new_channel_response(store, "library_services", channel, "ann",
                                          form_key=form_key, serial=serial,
                                          double_entry=double_entry)
            if channel != "letter":  # keyed once: a keying opened and left is no response
                record_entry(store, opened.response_id, 1, {"visit_frequency": "weekly"}, "ann")

        respond(WEEK_47, "phone", standard, "000003")  # Cai's copy, in CF10
        respond(WEEK_47, "paper-keyed", standard, "000002", double_entry=True)  # also scanned
        respond(WEEK_48, "paper-keyed", standard)  # a return without its serial
        respond(WEEK_48, "phone", large, "000002")  # Jon's large print copy: its own form's
        respond(WEEK_48, "letter", serial="000007")  # Gus's copy, in CF3 (other)
        respond(WEEK_48, "letter")  # a letter from nobody on the list
        respond(WEEK_48, "phone", serial="000001")  # printed in both variants: no copy
        other = new_channel_response(store, "another_survey", "phone", "ann", serial="000005")
        record_entry(store, other.response_id, 1, {}, "ann")
        # opened, never saved: not a response, though it names Eli's copy
        new_channel_response(store, "library_services", "phone", "ann", serial="000005")

    tracking = tracking_report(mailing).tracking
    assert tracking == Tracking(
        questionnaire_id="library_services",
        variants=(
            VariantReturns("standard", "en", printed=8, addressed=8, paper=3, online=2,
                           returned=6, keyed=2, letter=1),
            VariantReturns("large print", "en", printed=3, addressed=3, paper=1, online=0,
                           returned=2, keyed=1, letter=0),
        ),
        channels=(("paper", 4), ("paper_other", 0), ("online", 2),
                  ("online_variant_unknown", 1), ("online_other", 2), ("paper_keyed", 2),
                  ("phone", 3), ("letter", 2)),
        weeks=(
            WeekReturns("2026-W45", (3, 0, 0, 0, 0, 0, 0, 0)),
            WeekReturns("2026-W46", (0, 0, 2, 1, 0, 0, 0, 0)),
            WeekReturns("2026-W47", (1, 0, 0, 0, 2, 1, 1, 0)),
            WeekReturns("2026-W48", (0, 0, 0, 0, 0, 1, 2, 2)),
        ),
        districts=(
            DistrictReturns("CF10", addressed=7, paper=3, online=1, returned=6, keyed=3),
            DistrictReturns("other", addressed=3, paper=1, online=1, returned=2, letter=1),
            DistrictReturns("unknown", addressed=1, paper=0, online=0, returned=0),
        ),
    )
    out = io.StringIO()
    present.tracking_report(TrackingReport(tracking), out)
    assert out.getvalue() == PRINTED_WITH_KEYED
    tables = tracking_tables(tracking)
    assert tables["variants"].to_dict("records")[2] == {
        "variant": "all", "languages": "", "printed": 11, "addressed": 11, "returned_paper": 4,
        "returned_online": 2, "returned_keyed": 3, "returned_letter": 1, "returned": 8,
        "not_returned": 3, "rate": 0.727}
    assert tables["districts"][["district", "returned_keyed", "returned_letter"]].values \
        .tolist() == [["CF10", 3, 0], ["other", 0, 1], ["unknown", 0, 0]]
    assert tables["channels"]["label"].tolist()[5:] == ["paper, keyed", "phone", "letter"]
    assert "| 2026-W48 | 0 | 0 | 0 | 0 | 0 | 1 | 2 | 2 | 5 |" in tracking_markdown(tracking)
    with Image.open(io.BytesIO(returns_chart(tracking))) as chart:
        assert (chart.format, chart.size) == ("PNG", (1000, 500))
