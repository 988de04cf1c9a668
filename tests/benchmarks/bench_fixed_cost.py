"""Benchmark: a verb's fixed cost, the wall time of a whole `papertwin ...` process minus its work.

Two commands: a 1-copy `forms build` of form_templates/library_services.yaml, and an `ingest` of
one page of sample_scans/returns.pdf (each run a page of its own: a page ingested before is not
read again). Each runs as the `papertwin` command pyproject.toml declares, in a process of its
own, timed from start to exit:
- cold: the first command of a fresh workspace (it starts the workspace's server, and Prefect
  creates the workspace's database), and the first after `papertwin server stop` (database there);
- warm: the commands after it, the server running;
- alone: PAPERTWIN_SERVER=off, each command in its own process with a temporary Prefect server
  (how every command ran before the workspace server).
The work is the same pipeline calls timed in this process, warm, without Prefect; fixed cost is
a median wall time minus the median work. Not a test: run it by hand,
    .venv/bin/python -m tests.benchmarks.bench_fixed_cost --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT / "form_templates" / "library_services.yaml"
SCANS = PROJECT / "sample_scans" / "returns.pdf"
TIMEOUT = 300.0


def papertwin_command() -> list[str]:
    """The console script as pyproject.toml declares it (what pip writes into bin/papertwin)."""
    scripts = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["scripts"]
    module, function = scripts["papertwin"].split(":")
    return [sys.executable, "-c", f"import sys; from {module} import {function}; "
            f"sys.exit({function}())"]


class Bench:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.pages = self._split_pages()
        self.next_page = 0
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PREFECT_API_URL", "PAPERTWIN_SERVER", "PAPERTWIN_STORE_URL")}
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PROJECT), self.env.get("PYTHONPATH")) if p)
        self.env["PREFECT_HOME"] = str(root / "prefect")
        self.outs = 0

    def _split_pages(self) -> list[Path]:
        import pikepdf

        pages = []
        with pikepdf.open(SCANS) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                single = pikepdf.new()
                single.pages.append(page)
                path = self.root / "pages" / f"page-{number:02d}.pdf"
                path.parent.mkdir(exist_ok=True)
                single.save(path)
                pages.append(path)
        return pages

    def page(self) -> Path:
        page = self.pages[self.next_page % len(self.pages)]
        self.next_page += 1
        return page

    def workspace(self, name: str) -> Path:
        """A fresh workspace with the sample scans' form registered (in this process)."""
        from pipeline.publish import build_forms
        from pipeline.workspace import Workspace

        root = self.root / name
        build_forms(TEMPLATE, 8, self.root / f"{name}-form", Workspace.resolve(root))
        return root

    def run(self, workspace: Path, verb: str, **env: str) -> float:
        if verb == "build":
            self.outs += 1
            argv = ["forms", "build", str(TEMPLATE), "--copies", "1", "--out",
                    str(self.root / f"out-{self.outs}")]
        else:
            argv = ["ingest", str(self.page())]
        started = time.perf_counter()
        done = subprocess.run([*papertwin_command(), "--workspace", str(workspace), *argv],
                              env={**self.env, **env}, capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"papertwin {' '.join(argv)} failed ({done.returncode}): "
                             f"{done.stderr}")
        return seconds

    def stop(self, workspace: Path) -> None:
        subprocess.run([*papertwin_command(), "--workspace", str(workspace), "server", "stop"],
                       env=self.env, capture_output=True, timeout=TIMEOUT, check=True)


def work_of_build(root: Path, repeats: int) -> list[float]:
    from pipeline.publish import build_forms
    from pipeline.workspace import Workspace

    workspace = Workspace.resolve(root / "work-build")
    times = []
    for n in range(repeats + 1):  # the first warms this process
        started = time.perf_counter()
        build_forms(TEMPLATE, 1, root / f"work-build-{n}", workspace)
        times.append(time.perf_counter() - started)
    return times[1:]


def work_of_ingest(bench: Bench, repeats: int) -> list[float]:
    """The ingest flow's steps, called as its tasks call them, without Prefect."""
    from pipeline.ingest.batch import (
        check_can_ingest,
        join_chunks,
        plan_batch,
        read_chunk_cached,
        store_reading,
        summarise_batch,
    )
    from pipeline.read.page import ReaderSettings
    from pipeline.store.store import Store
    from pipeline.workspace import Workspace

    workspace = Workspace.resolve(bench.workspace("work-ingest"))
    settings = ReaderSettings()
    times = []
    for _ in range(repeats + 1):
        page = bench.page()
        started = time.perf_counter()
        check_can_ingest(workspace)
        with Store.open(workspace.store_url) as store:  # as the flow holds it, once a batch
            batch = plan_batch([page], workspace, store=store)
            readings = [read_chunk_cached(chunk, batch.layouts, settings, workspace)
                        for chunk in batch.chunks]
            stored = [store_reading(join_chunks(readings, batch.layouts, settings),
                                    batch.batch_id, workspace, store)] if readings else []
            summarise_batch(batch, stored, workspace, store)
        times.append(time.perf_counter() - started)
    return times[1:]


def line(label: str, times: list[float], work: float) -> None:
    median = statistics.median(times)
    samples = ", ".join(f"{t:.2f}" for t in times)
    print(f"  {label:<38} wall {median:6.2f} s  fixed {median - work:6.2f} s   ({samples})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="warm runs per command")
    parser.add_argument("--alone", type=int, default=3,
                        help="runs per command with PAPERTWIN_SERVER=off")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="papertwin-bench-") as tmp:
        bench = Bench(Path(tmp))
        works = {"build": statistics.median(work_of_build(bench.root, args.repeats)),
                 "ingest": statistics.median(work_of_ingest(bench, args.repeats))}
        print(f"work, in a warm process: forms build {works['build']:.2f} s, "
              f"1-page ingest {works['ingest']:.2f} s")
        for verb in ("build", "ingest"):
            run: Callable[..., float] = bench.run
            workspace = bench.workspace(f"ws-{verb}")
            try:
                cold = [run(workspace, verb)]
                warm = [run(workspace, verb) for _ in range(args.repeats)]
                bench.stop(workspace)
                restarted = [run(workspace, verb)]
            finally:
                bench.stop(workspace)
            alone = [run(workspace, verb, PAPERTWIN_SERVER="off") for _ in range(args.alone)]
            print(f"{'forms build, 1 copy' if verb == 'build' else 'ingest, 1 page'}:")
            line("cold (fresh workspace)", cold, works[verb])
            line("cold (after server stop)", restarted, works[verb])
            line("warm (server running)", warm, works[verb])
            line("alone (PAPERTWIN_SERVER=off)", alone, works[verb])


if __name__ == "__main__":
    main()
