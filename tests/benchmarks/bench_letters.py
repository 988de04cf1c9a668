"""Benchmark: typed letters from the simulator, scanned with mild damage, taken for letters and
read as ingest reads them; the character error rate of their text against what was typed.

For each seed: the letter (simulate/letters.py) is printed, damaged and scanned at 200 dpi into a
PDF as `papertwin simulate --letter` does; every page must be classified as a letter
(read/letter.py); its text is read at ingest's resolution (ingest/letters.py) and compared,
whitespace made single spaces, with the letter's truth. Not a test: run it by hand, e.g.
    .venv/bin/python -m tests.benchmarks.bench_letters --seeds 10
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import img2pdf
import numpy as np

from pipeline.ingest.letters import LETTER_DPI
from pipeline.programs.poppler import rasterise_page
from pipeline.programs.tesseract import ocr_page
from pipeline.read.letter import letter_text
from pipeline.simulate.damage import Damage
from pipeline.simulate.letters import compose_letter, scanned_letter
from pipeline.textdistance import edit_distance

SCAN_DPI = 200


def measure(seed: int, folder: Path) -> tuple[int, int, int, float]:
    """(characters of truth, edit distance, pages taken for letters, lowest confidence)."""
    letter = compose_letter(seed)
    pages = scanned_letter(letter, SCAN_DPI, Damage.mild(), np.random.default_rng(seed))
    pdf = folder / f"letter-{seed}.pdf"
    pdf.write_bytes(img2pdf.convert(pages,
                                    layout_fun=img2pdf.get_fixed_dpi_layout_fun((SCAN_DPI,
                                                                                 SCAN_DPI))))
    texts, taken, lowest = [], 0, 1.0
    for number in range(1, len(pages) + 1):
        taken += letter_text(rasterise_page(pdf, number, SCAN_DPI), 60.0) is not None
        read = ocr_page(rasterise_page(pdf, number, LETTER_DPI), timeout=60.0)
        texts.append(read.text)
        lowest = min(lowest, read.confidence)
    got, expected = " ".join(" ".join(texts).split()), " ".join(letter.text.split())
    return len(expected), edit_distance(got, expected), taken, lowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    chars = errors = taken = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="papertwin-letters-") as folder:
        for seed in range(1, args.seeds + 1):
            n, e, t, lowest = measure(seed, Path(folder))
            chars, errors, taken = chars + n, errors + e, taken + t
            print(f"seed {seed:3d}: CER {e / n:.4f} ({e}/{n}), pages taken for letters {t}/2, "
                  f"lowest confidence {lowest:.2f}")
    print(f"{args.seeds} letters, {2 * args.seeds} pages: CER {errors / chars:.4f} "
          f"({errors}/{chars}), pages taken for letters {taken}/{2 * args.seeds}, "
          f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
