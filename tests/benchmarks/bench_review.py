"""Benchmark: how fast the review app answers a reviewer on a national consultation's queue.

Prepares a store as bench_reconcile does (N paper responses of a 40-question form; M online
responses imported, the first PAIRS of them giving a paper copy's serial), with a share of the
answers flagged for a person, then drives the app in-process (FastAPI's test client, no browser,
no network) as a reviewer does: log in, open the queue, and decide answers one after another.
Prints the time per decision (the POST and the next answer's page it leads to), and of the batch
overview and the paper-and-online pairs page. Not a test: run it by hand,
    .venv/bin/python -m tests.benchmarks.bench_review --paper 20000 --online 100000
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_reconcile import prepare

PASSWORD = "benchmark password"
PAIRS = 100  # online respondents who also returned their paper copy


def measure(root: Path, decisions: int) -> None:
    from fastapi.testclient import TestClient

    from pipeline.review.accounts import add_user, list_users
    from pipeline.review.app import create_app
    from pipeline.review.web import Settings
    from pipeline.store.store import Store
    from pipeline.workspace import Workspace

    workspace = Workspace.resolve(root / "ws")
    store = Store.open(workspace.store_url)
    try:
        if not any(user.name == "bench" for user in list_users(store)):
            add_user(store, "bench", PASSWORD, "reviewer")
    finally:
        store.close()
    with TestClient(create_app(Settings(workspace)), base_url="https://127.0.0.1") as client:
        login = client.get("/login")
        token = _csrf(login.text)
        client.post("/login", data={"name": "bench", "password": PASSWORD, "csrf": token})
        started = time.perf_counter()
        overview = client.get("/")
        overview_s = time.perf_counter() - started
        waiting = re.search(r'id="waiting-answers">(\d+)<', overview.text)
        started = time.perf_counter()
        pairs = client.get("/dual")
        dual_s = time.perf_counter() - started
        if pairs.status_code != 200:
            raise RuntimeError(f"the paper-and-online page answered {pairs.status_code}")
        page = client.get("/fields/next")
        times = []
        for _ in range(decisions):
            started = time.perf_counter()
            page = client.post(str(page.url), data={"csrf": _csrf(page.text),
                                                    "action": "decide", "value": "x"})
            times.append(time.perf_counter() - started)
            if page.status_code != 200 or 'id="decision"' not in page.text:
                raise RuntimeError(f"the app answered {page.status_code}: {page.text[:300]}")
    print(f"queue: {waiting.group(1) if waiting else '?'} answers waiting; batch overview "
          f"{overview_s * 1000:.0f} ms; paper-and-online pairs page {dual_s * 1000:.0f} ms")
    print(f"{decisions} decisions: median {statistics.median(times) * 1000:.0f} ms, slowest "
          f"{max(times) * 1000:.0f} ms (the POST and the next answer's page)")


def _import_online(root: Path, pairs: int) -> None:
    """The online export, its first rows naming paper copies: people on both channels."""
    import pandas as pd

    from pipeline.online import import_online_export
    from pipeline.workspace import Workspace

    frame = pd.read_csv(root / "online.csv", dtype=str, keep_default_na=False)
    frame.loc[:pairs - 1, "respondent_ref"] = [f"{n:06d}" for n in range(1, pairs + 1)]
    frame.to_csv(root / "online.csv", index=False)
    import_online_export(root / "online.csv", Workspace.resolve(root / "ws"))


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    if found is None:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--paper", type=int, default=20000)
    parser.add_argument("--flagged", type=float, default=0.02)
    parser.add_argument("--online", type=int, default=100000,
                        help="online responses imported beside the paper ones")
    parser.add_argument("--decisions", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--keep", type=Path, default=None,
                        help="prepare into this folder, or reuse what an earlier run left there "
                             "(its decisions included)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="papertwin-review-") as tmp:
        root = args.keep or Path(tmp)
        if not (root / "ws").is_dir():
            root.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            prepare(root, args.paper, args.online, args.seed, flagged=args.flagged)
            if args.online:
                _import_online(root, min(PAIRS, args.paper))
            print(f"(prepared in {time.perf_counter() - started:.0f} s)")
        measure(root, args.decisions)


if __name__ == "__main__":
    main()
