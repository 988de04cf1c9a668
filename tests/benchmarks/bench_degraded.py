"""Benchmark: how the reader copes with returns as a mailroom receives them.

Simulates N copies per degradation profile (pipeline/simulate/degrade.py: dirty drum, dirty
rollers, bleed-through, low ink, folds, photocopy, fax, light, and the mailroom's mix of them,
scanned bitonal, grey or in colour at 200 or 300 dpi, skewed up to 4 degrees, 15 % upside down),
plus the clean corpus (mild damage, as bench_accuracy.py makes it) as a baseline, reads each
the way bench_accuracy.py does and prints one row per profile: pages, pages identified, silent
choice errors, review rate and reading time per page; then, per profile, why pages were not
identified and why answers went to a person, which is where the reader has work to do.
Not a test: run it by hand,
    .venv/bin/python -m tests.benchmarks.bench_degraded --copies 40
`--profiles dirty-drum,fax` chooses profiles; `--form bus` uses the bilingual bus network
XLSForm instead of the town centre consultation, and `--form PATH` any form file, such as an
XLSForm from ../shared/xlsforms. `--keep DIR` writes the corpora to DIR, or
reuses those already there, so that the reader can be measured again without simulating.
Profiles are simulated and read two at a time (`--workers`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipeline.forms.layout import LayoutOptions
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings
from pipeline.simulate.damage import Damage
from pipeline.simulate.degrade import PROFILE_NAMES
from pipeline.simulate.returns import TRUTH_NAME, simulate_returns
from pipeline.workspace import Workspace
from tests.benchmarks.bench_accuracy import Figures, measure_pages

PROJECT = Path(__file__).resolve().parents[2]
FORMS = {
    "town": (PROJECT / "form_templates" / "town_centre.yaml", LayoutOptions()),
    "bus": (PROJECT / "form_templates" / "bus_network_xlsform.md",
            LayoutOptions(languages=("cy", "en"))),
}
BASELINE = "clean"
REASONS_SHOWN = 5


@dataclass(frozen=True)
class Row:
    """One profile's figures, and the reasons that guide the reader's work."""

    profile: str
    figures: Figures
    simulate_seconds: float  # per page; 0 when the corpus was reused
    unidentified: Counter[str]


def build(root: Path, form: str, copies: int) -> Path:
    """The built form's folder, reused when root already holds it. `form` is one of FORMS, or
    the path of a form file (an XLSForm people wrote, say)."""
    template, options = FORMS.get(form, (Path(form), LayoutOptions()))
    form_dir = root / f"form-{form if form in FORMS else template.stem}"
    if not (form_dir / "layout.json").exists():
        build_forms(template, copies, form_dir, Workspace.resolve(root / f"build-ws-{form}"),
                    options)
    return form_dir


def run_profile(form_dir: Path, root: Path, profile: str, seed: int) -> Row:
    """Simulate one profile's corpus (unless root holds it) and read it."""
    scans = root / f"scans-{form_dir.name}-{profile}"
    simulate_seconds = 0.0
    if not (scans / TRUTH_NAME).exists():
        started = time.perf_counter()
        batch = simulate_returns(form_dir, scans, seed=seed, damage=Damage.mild(), varied=True,
                                 degradation=None if profile == BASELINE else profile)
        simulate_seconds = (time.perf_counter() - started) / batch.pages
    with tempfile.TemporaryDirectory(prefix="papertwin-degraded-") as work:
        figures, pages = measure_pages(form_dir, scans, ReaderSettings(), Path(work))
    unidentified = Counter(f"{p.outcome}: {p.reason}" for p in pages if p.outcome != "identified")
    return Row(profile, figures, simulate_seconds, unidentified)


def table(rows: list[Row]) -> list[str]:
    lines = [f"{'profile':<14} {'pages':>5} {'identified':>16} {'silent errors':>20} "
             f"{'review':>7} {'read s/page':>11} {'sim s/page':>10}"]
    for row in rows:
        f = row.figures
        identified = f.outcomes["identified"]
        choices = f.choice_count
        lines.append(
            f"{row.profile:<14} {f.pages:>5} {identified / max(1, f.pages):>9.1%} "
            f"({identified:>4}) {f.silent_errors:>5} of {choices:>4} "
            f"({f.silent_errors / max(1, choices):>5.1%}) {f.review_rate:>7.1%} "
            f"{f.read_seconds / max(1, f.pages):>11.2f} "
            + (f"{row.simulate_seconds:>10.2f}" if row.simulate_seconds else f"{'(kept)':>10}"))
    return lines


def reasons(rows: list[Row]) -> list[str]:
    lines: list[str] = []
    for row in rows:
        lines.append(f"{row.profile}:")
        for reason, count in row.unidentified.most_common():
            lines.append(f"  not identified {count}x  {reason}")
        top = row.figures.flags.most_common(REASONS_SHOWN)
        lines.append("  review: " + (", ".join(f"{k or '(none)'} {v}" for k, v in top) or "-"))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--form", default="town",
                        help=f"{' or '.join(sorted(FORMS))}, or the path of a form file "
                             "(an XLSForm, a template)")
    parser.add_argument("--profiles", default=",".join(PROFILE_NAMES),
                        help=f"comma-separated, of {', '.join(PROFILE_NAMES)} (default all); "
                             f"the {BASELINE} baseline is always measured")
    parser.add_argument("--keep", type=Path, help="write the corpora here, or reuse them")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.form not in FORMS and not Path(args.form).is_file():
        parser.error(f"--form {args.form}: neither {' nor '.join(sorted(FORMS))} nor a file")
    profiles = [p for p in args.profiles.split(",") if p and p != BASELINE]
    unknown = sorted(set(profiles) - set(PROFILE_NAMES))
    if unknown:
        parser.error(f"unknown profiles {', '.join(unknown)}: choose of "
                     f"{', '.join(PROFILE_NAMES)}")
    with tempfile.TemporaryDirectory(prefix="papertwin-degraded-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        form_dir = build(root, args.form, args.copies)
        # spawned, not forked: augraphy's numba and OpenCV thread pools do not survive a fork
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.workers, mp_context=spawn) as pool:
            futures = [pool.submit(run_profile, form_dir, root, p, args.seed)
                       for p in [BASELINE, *profiles]]
            rows = [f.result() for f in futures]
    print(f"form {args.form}, {args.copies} copies per profile, seed {args.seed}; silent errors "
          "are choice answers given wrong without a flag; review is the share of questions sent "
          "to a person; reading on one worker per profile, decoding included")
    print("\n".join(table(rows)))
    print()
    print("\n".join(reasons(rows)))


if __name__ == "__main__":
    main()
