"""Benchmark: the bold serial beside the page code, read by matching the printed font's digits
against reading it with tesseract, on degraded corpora kept by bench_degraded.py.

A page whose code is unreadable is named by the pages beside it; the bold serial confirms whose
page it is (docs/scan-intake.md). For every form page of each corpus that registers, this reads
the label both ways and compares each with the serial the simulator printed: right, wrong (a
serial read that is not the page's: the figure that must stay 0 for matching), or nothing read.
Not a test: run it by hand on corpora kept with --keep, e.g.
    .venv/bin/python -m tests.benchmarks.bench_degraded --copies 12 --keep /tmp/deg12
    .venv/bin/python -m tests.benchmarks.bench_serial_label /tmp/deg12
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from pipeline.forms.build import LAYOUT_NAME
from pipeline.forms.manifest import read_layout
from pipeline.read.page import ReaderSettings
from pipeline.read.register import align, find_corner_marks, register, register_by_shape
from pipeline.read.serial_label import _read_by_glyphs, _read_by_ocr
from pipeline.scan.pdf_images import iter_pdf_pages
from pipeline.simulate.returns import TRUTH_NAME

DPI = 200


def measure(form_dir: Path, scans: Path) -> tuple[Counter[str], float, float]:
    """Counts of (way, outcome) over the corpus's registered form pages, and the seconds per
    label each way took."""
    layout = read_layout(form_dir / LAYOUT_NAME)
    files = json.loads((scans / TRUTH_NAME).read_text())["files"]["returns.pdf"]
    settings = ReaderSettings()
    counts: Counter[str] = Counter()
    seconds = {"glyphs": 0.0, "tesseract": 0.0}
    for number, gray in iter_pdf_pages(scans / "returns.pdf", "returns.pdf", DPI):
        printed = files[number - 1]
        if "serial" not in printed:
            continue  # a letter or a blank back
        registration = register(gray, find_corner_marks(gray)) or register_by_shape(gray)
        if registration is None:
            counts["not registered"] += 1
            continue
        page = layout.page_layout(printed["page"])
        aligned = align(registration, page, settings.scale, layout.page_size)
        for way in ("glyphs", "tesseract"):
            started = time.perf_counter()
            serial = (_read_by_glyphs(aligned.image, page.barcode, aligned.scale)
                      if way == "glyphs" else
                      _read_by_ocr(aligned.image, page.barcode, aligned.scale,
                                   settings.ocr_timeout))
            seconds[way] += time.perf_counter() - started
            outcome = ("nothing" if not serial else "right" if serial == printed["serial"]
                       else "wrong")
            counts[f"{way} {outcome}"] += 1
    labels = max(1, counts["glyphs right"] + counts["glyphs wrong"] + counts["glyphs nothing"])
    return counts, seconds["glyphs"] / labels, seconds["tesseract"] / labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path, help="a folder bench_degraded.py kept (--keep)")
    args = parser.parse_args()
    forms = sorted(p for p in args.root.glob("form-*") if (p / LAYOUT_NAME).exists())
    total: Counter[str] = Counter()
    print(f"{'corpus':40} {'labels':>6}  {'glyphs right/wrong/none':>24}  "
          f"{'tesseract right/wrong/none':>27}")
    for form_dir in forms:
        for scans in sorted(args.root.glob(f"scans-{form_dir.name}-*")):
            if not (scans / TRUTH_NAME).exists():
                continue
            counts, glyph_s, ocr_s = measure(form_dir, scans)
            total.update(counts)
            labels = sum(counts[f"glyphs {o}"] for o in ("right", "wrong", "nothing"))
            print(f"{scans.name:40} {labels:>6}  "
                  f"{counts['glyphs right']:>10}/{counts['glyphs wrong']}/"
                  f"{counts['glyphs nothing']:<5} {glyph_s * 1000:4.1f} ms  "
                  f"{counts['tesseract right']:>10}/{counts['tesseract wrong']}/"
                  f"{counts['tesseract nothing']:<5} {ocr_s * 1000:5.1f} ms")
    labels = sum(total[f"glyphs {o}"] for o in ("right", "wrong", "nothing"))
    print(f"all: {labels} labels; glyphs {total['glyphs right']} right, "
          f"{total['glyphs wrong']} wrong; tesseract {total['tesseract right']} right, "
          f"{total['tesseract wrong']} wrong; {total['not registered']} pages not registered")


if __name__ == "__main__":
    main()
