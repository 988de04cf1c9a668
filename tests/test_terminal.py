"""Names people chose are shown escaped: none can forge a line, clear a screen or read backwards."""

from __future__ import annotations

import io
from pathlib import Path

from pipeline.cli.present import print_import_report
from pipeline.ingest.batch import BatchSummary
from pipeline.ingest.inbox import QUARANTINE, describe, move
from pipeline.ingest.report import batch_markdown, markdown_code, markdown_text
from pipeline.online.read import InvalidValue, OnlineImport
from pipeline.scan.intake import SetAside
from pipeline.terminal import shown

HOSTILE = "evil\nbatch 9: 99 files read\x1b[2J.pdf"


def test_control_and_format_characters_are_escaped_visibly() -> None:
    assert shown(HOSTILE) == "evil\\nbatch 9: 99 files read\\x1b[2J.pdf"
    assert shown("a\rb\tc\x00d\x7fe") == "a\\rb\\tc\\x00d\\x7fe"
    assert shown("next\x85line\x9b2J") == "next\\x85line\\x9b2J"  # C1: NEL and CSI
    assert shown("invoice\u202efdp.exe") == "invoice\\u202efdp.exe"  # right-to-left override
    assert shown("\u2066a\u2069\u200b\ufeff") == "\\u2066a\\u2069\\u200b\\ufeff"
    assert shown("line\u2028para\u2029") == "line\\u2028para\\u2029"
    assert shown("tag\U000e0041") == "tag\\U000e0041"
    assert shown("scan-\udcff.pdf") == "scan-\\udcff.pdf"  # an undecodable byte of a file name


def test_printable_text_of_every_script_is_left_as_it_is() -> None:
    for text in ("Holiadur Llanfair Pwllgwyngyll: ŵ ŷ â", "استبيان المكتبة", "图书馆服务问卷",
                 "Ответы", "می\u200cخواهم", "👩\u200d👩\u200d👧", "a\u00a0b\u3000c",
                 "C:\\scans\\batch 1.pdf", "/tmp/scans/batch-1.pdf", ""):
        assert shown(text) == text


def test_a_batch_summary_in_markdown_keeps_names_from_adding_structure() -> None:
    path = "/scans/a`b``\n# Batch 99\n[click](http://evil.example/)![x](http://evil.example/p)"
    summary = BatchSummary(batch_id=7, files_read=0, files_already_read=0,
                           set_aside=(SetAside(path, f"{path} is empty (0 bytes): rescan it"),))
    markdown = batch_markdown(summary)
    assert [line for line in markdown.splitlines() if line.startswith("#")] == [
        "# Batch 7", "## Set aside", "## Review queue"]
    (item,) = [line for line in markdown.splitlines() if line.startswith("- ```")]
    shown_path = ("/scans/a`b``\\n# Batch 99\\n"
                  "[click](http://evil.example/)![x](http://evil.example/p)")
    assert item.startswith(f"- ```{shown_path}```: ")
    assert "\\[click\\](http://evil.example/)\\!\\[x\\]" in item
    assert markdown_code("a`b") == "``a`b``" and markdown_code("`a") == "`` `a ``"
    assert markdown_text("<img src=x> & *b*") == "\\<img src=x\\> \\& \\*b\\*"


def test_a_file_moved_out_of_the_inbox_is_described_and_explained_on_lines_of_its_own(
    tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    dropped = inbox / "letter\nsha256: forged\x1b[2J.txt"
    dropped.write_text("Dear council")
    reason = f"{dropped} is not a PDF, TIFF, PNG or JPEG file: check what was scanned"
    filed = move(dropped, inbox / QUARANTINE, reason, "ab" * 32, 3)
    assert filed.reason_file is not None
    lines = filed.reason_file.read_text(encoding="utf-8").splitlines()
    assert lines[0] == shown(reason) == (
        f"{inbox}/letter\\nsha256: forged\\x1b[2J.txt is not a PDF, TIFF, PNG or JPEG file: "
        "check what was scanned")
    assert lines[2:5] == ["file: letter\\nsha256: forged\\x1b[2J.txt", f"sha256: {'ab' * 32}",
                          "batch: 3"]
    assert len(lines) == 6
    assert describe(filed) == (
        f"letter\\nsha256: forged\\x1b[2J.txt: {shown(reason)}; moved to "
        "quarantine/letter\\nsha256: forged\\x1b[2J.txt")


def test_the_import_report_shows_the_exports_names_and_values_escaped() -> None:
    imported = OnlineImport(
        rows=(), matched=("comments",), missing=(), extra=("note\n  note: forged",),
        invalid=(InvalidValue(2, "visit_frequency", "daily\x1b[31m"),), id_column="id\r",
        convention="generic", warnings=("column a\u202eb",))
    out = io.StringIO()
    print_import_report(imported, Path("export\n.csv"), out)
    assert out.getvalue().splitlines() == [
        "imported 0 online responses from export\\n.csv",
        "  convention: generic (generic export (columns named by question or by a mapping "
        "file)), as named by --convention",
        "  response id column 'id\\r'; no submission time column; "
        "no respondent reference column",
        "  question columns matched: 1",
        "  columns that are no question (online only, not imported): note\\n  note: forged",
        "  row 2: 'daily\\x1b[31m' is not a choice of visit_frequency (kept as is)",
        "  note: column a\\u202eb",
    ]
