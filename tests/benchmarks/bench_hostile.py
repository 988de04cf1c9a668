"""Benchmark: what hostile or absurd input costs papertwin now that it is bounded.

Prints, for each: zip-bomb workbooks refused by `papertwin forms build` (time, peak memory of the
command, exit code); a burst of logins against a real `papertwin review` (the server's memory at
rest and at its peak, how many passwords were checked); 30 guesses for one name at once; a PDF of
2,000 blank pages planned by ingest (time to set it aside). Not a test: run it by hand,
    .venv/bin/python -m tests.benchmarks.bench_hostile
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx
import pikepdf

from pipeline.ingest.batch import plan_batch
from pipeline.publish import build_forms
from pipeline.workspace import Workspace
from tests.review_site import PASSWORD, review_process
from tests.test_review_logins import _burst, _kib, _login, _workspace_with_rita
from tests.test_template_limits import _bomb, _papertwin

TEMPLATE = Path(__file__).resolve().parents[2] / "form_templates" / "library_services.yaml"


def bombs(root: Path) -> None:
    for name, mib, lie in (("1 GiB", 1024, False), ("3 GiB", 3 * 1024, False),
                           ("lying headers", 1024, True)):
        folder = root / name.replace(" ", "-")
        folder.mkdir()
        bomb = _bomb(folder / "bomb.xlsx", mib, lie)
        run = _papertwin(["forms", "build", str(bomb), "--copies", "1", "--out",
                          str(folder / "form")], folder)
        print(f"zip bomb, {name} in {bomb.stat().st_size / 1e6:.1f} MB: exit {run.code} in "
              f"{run.seconds:.2f} s, peak {run.peak_mb:.0f} MB")


def logins(root: Path, burst: int) -> None:
    workspace = _workspace_with_rita(root / "logins")
    with review_process(workspace) as server:
        with httpx.Client(base_url=server.url) as client:
            _login(client, "rita", PASSWORD)
        idle = _kib(server.pid, "VmRSS")
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")
        started = time.monotonic()
        answers = _burst(server.url, [(f"guesser {n}", f"guess {n}") for n in range(burst)])
        seconds = time.monotonic() - started
        peak = _kib(server.pid, "VmHWM")
        print(f"{burst} logins at once under {burst} names: server {idle / 1024:.0f} MB at rest, "
              f"peak {peak / 1024:.0f} MB; {answers.count('401')} passwords checked, "
              f"{answers.count('429 busy')} told to try again; {seconds:.1f} s")
        started = time.monotonic()
        answers = _burst(server.url, [("rita", f"guess {n}") for n in range(30)])
        seconds = time.monotonic() - started
        print(f"30 guesses for one name at once: {answers.count('401')} checked, "
              f"{answers.count('429 throttled')} refused by the throttle, "
              f"{answers.count('429 busy')} told to try again; {seconds:.1f} s")


def absurd_pdf(root: Path) -> None:
    workspace = Workspace.resolve(root / "ingest").ensure()
    build_forms(TEMPLATE, 2, root / "form", workspace)
    absurd = root / "absurd.pdf"
    with pikepdf.new() as pdf:
        for _ in range(2000):
            pdf.add_blank_page(page_size=(595, 842))
        pdf.save(absurd, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    started = time.monotonic()
    plan = plan_batch([absurd], workspace)
    seconds = time.monotonic() - started
    print(f"PDF of 2,000 blank pages in {absurd.stat().st_size / 1e3:.0f} kB: "
          f"{len(plan.set_aside)} set aside in {seconds:.2f} s, {len(plan.chunks)} chunks to read")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=50, help="logins at once (default 50)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="papertwin-bench-") as tmp:
        root = Path(tmp)
        bombs(root)
        logins(root, args.burst)
        absurd_pdf(root)


if __name__ == "__main__":
    main()
