"""simulate: filled-in, scanner-damaged returns of a built form, plus their ground truth."""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import cv2
import img2pdf
import numpy as np

from pipeline.errors import LayoutError, UsageError
from pipeline.forms.build import LAYOUT_NAME, form_pdfs
from pipeline.forms.manifest import read_layout
from pipeline.forms.style import LARGE_PRINT, STANDARD
from pipeline.fsutil import atomic_write_bytes, atomic_write_text
from pipeline.programs.poppler import page_count, rasterise_page
from pipeline.records import Box, Layout
from pipeline.simulate.answers import (
    OFF_ROUTE_SHARE,
    cell_text,
    choose_answers,
    on_printed_route,
)
from pipeline.simulate.damage import Damage, damage_page, encode_jpeg
from pipeline.simulate.degrade import (
    CopyPlan,
    DegradingScanner,
    check_profile,
    plan_copy,
    plan_page,
)
from pipeline.simulate.letters import compose_letter, scanned_letter
from pipeline.simulate.pen import (
    COLOUR_SCAN_TOOLS,
    PEN_COLOURS,
    WRITING_TOOLS,
    Image8,
    Pen,
    draw_circle_around,
    draw_cross,
    draw_dot,
    draw_fill,
    draw_spill,
    draw_tick,
    find_handwriting_font,
    write_cell,
    write_text,
)
from pipeline.simulate.truth import TRUTH_SCHEMA

TRUTH_NAME = "truth.json"
ROUTE_STREAM = 15  # seeds route_rng beside the seed
LETTER_STREAM = 17  # seeds the letter's scan: the forms' draws stay as they were without it
DEGRADE_STREAM = 16  # seeds the degradation's draws: a seed's answers are the same whatever
# the profile
MARKS = MappingProxyType({"tick": draw_tick, "cross": draw_cross, "spill": draw_spill,
                          "dot": draw_dot, "circle": draw_circle_around})
MARK_STYLES = ("tick", "cross", "spill", "dot", "circle")
MARK_SHARES = (0.5, 0.36, 0.08, 0.03, 0.03)
CANCEL_SHARE = 0.04
BATCH_NAME = "returns.pdf"


@dataclass(frozen=True)
class SimulatedBatch:
    pdf_path: Path
    truth_path: Path
    pages: int
    responses: int


def simulate_returns(form_dir: Path, out_dir: Path, seed: int = 1, dpi: int = 200,
                     damage: Damage | None = None, font: Path | None = None,
                     varied: bool = False, colour: float = 0.0,
                     pens: tuple[str, ...] = (),
                     off_route: float = OFF_ROUTE_SHARE,
                     degradation: str | None = None,
                     marks: tuple[str, ...] = (), letter: bool = False) -> SimulatedBatch:
    """Fill every copy in form_dir, scan it badly, write one batch PDF and truth.json.

    `varied` makes respondents use every kind of pen (marker, pencil) and mark (ticks that spill
    out, dots, rings around the box) and sometimes cancel a mark by filling its box in; the
    default is ballpoint ticks and crosses only. `colour` is the share of copies scanned in
    colour, on slightly tinted paper; in a varied corpus their respondents may also write with
    pale blue pens, whose ink only the colour scan keeps dark. `pens` names the writing tools
    respondents choose from (pen.WRITING_TOOLS, pen.COLOUR_SCAN_TOOLS), instead of the default.
    Respondents follow the printed route (go-tos, "Answer this only if" lines), but for a share
    `off_route` of them, who answer what they should have skipped; truth.json says which.
    `marks` names the marks respondents make (MARK_STYLES), each respondent one of them, instead
    of the default's ticks and crosses or a varied corpus's mix. `degradation` names a profile of
    degrade.py: each copy is then printed, damaged and scanned
    as the profile says (mode and dpi by copy, skew and upside down by page), instead of with
    `damage` at `dpi`, and truth.json records it for every page.
    `letter` puts a typed two-page letter (simulate/letters.py) among the forms, after the
    first copy, scanned with `damage` at `dpi`; truth.json keeps its text under "letters" and
    names its pages {"letter": 1, "page": n} in "files".
    """
    damage = damage or Damage.mild()
    if degradation is not None:
        check_profile(degradation)
        if letter:
            raise UsageError("a letter is scanned with the batch's damage, not a degradation "
                             "profile: leave out --degrade or --letter")
    unknown = sorted(set(marks) - set(MARK_STYLES))
    if unknown:
        raise UsageError(f"no such mark: {', '.join(unknown)}; marks are "
                         f"{', '.join(MARK_STYLES)}")
    layout = read_layout(form_dir / LAYOUT_NAME)
    if not layout.copies:
        raise LayoutError(f"{form_dir / LAYOUT_NAME} lists no copies: build the form with --copies")
    printed = _questionnaire_pages(form_dir, layout)
    font_path = find_handwriting_font(font)
    rng = np.random.default_rng(seed)
    # who strays from the printed route: a stream of its own, so that the answers and marks
    # drawn for a seed stay the same whatever the share
    route_rng = np.random.default_rng([seed, ROUTE_STREAM])
    degrade_rng = np.random.default_rng([seed, DEGRADE_STREAM])
    scans: list[bytes | Future[bytes]] = []
    scanned_as: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    pages = iter(printed)
    # degraded pages are scanned in a process of their own, while the next ones are filled in
    scanner = DegradingScanner() if degradation is not None else None
    with scanner or contextlib.nullcontext():
        for copy in layout.copies:
            answers = choose_answers(layout.questionnaire, rng)
            strays = bool(route_rng.random() < off_route)
            if not strays:
                answers = on_printed_route(layout.questionnaire, answers)
            # Drawn only when asked for, so that corpora without colour stay as they were.
            in_colour = colour > 0 and bool(rng.random() < colour)
            tool, pen = _pick_pen(rng, varied, in_colour, pens)
            if marks:
                mark_style = marks[int(rng.integers(len(marks)))]
            elif varied:
                mark_style = str(rng.choice(MARK_STYLES, p=MARK_SHARES))
            else:
                mark_style = "tick" if rng.random() < 0.6 else "cross"
            carried: dict[str, str] = {}
            plan = plan_copy(degradation, degrade_rng) if degradation is not None else None
            page_dpi = plan.dpi if plan else dpi
            scale = page_dpi / 72.0
            for page in layout.pages:
                pdf, number = next(pages)
                grey = rasterise_page(pdf, number, page_dpi)
                image = np.asarray(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
                image, carried = _fill_page(image, layout, page.page, answers, scale, pen,
                                            mark_style, font_path, rng, carried, varied)
                if plan is not None:
                    scan, how = _degraded(image, plan, in_colour, rng, degrade_rng,
                                          scanner)
                    scans.append(scan)
                    scanned_as.append(how)
                    continue
                if in_colour:
                    filled = tint_paper(image, rng)
                else:
                    filled = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
                scanned = damage_page(filled, damage, rng)
                scans.append(encode_jpeg(scanned, damage.jpeg_quality))
            responses.append({"serial": copy.serial, "answers": answers, "off_route": strays,
                              "marking": {"tool": tool, "mark": mark_style,
                                          "scan": "colour" if in_colour else "grey"}})
        jpegs = [s if isinstance(s, bytes) else s.result() for s in scans]
    files = [{"serial": c.serial, "page": p.page} for c in layout.copies for p in layout.pages]
    if degradation is not None:
        files = [{**f, **how} for f, how in zip(files, scanned_as, strict=True)]
    letters: list[dict[str, Any]] = []
    if letter:
        typed = compose_letter(seed)
        at = len(layout.pages) if len(layout.copies) > 1 else len(jpegs)
        letter_scans = scanned_letter(typed, dpi, damage,
                                      np.random.default_rng([seed, LETTER_STREAM]))
        jpegs[at:at] = letter_scans
        files[at:at] = [{"letter": 1, "page": n} for n in range(1, len(letter_scans) + 1)]
        letters.append({"file": BATCH_NAME,
                        "pages": list(range(at + 1, at + len(letter_scans) + 1)),
                        "sender": typed.sender, "text": typed.text})

    out_dir.mkdir(parents=True, exist_ok=True)
    pdf_path = out_dir / BATCH_NAME
    if degradation is None:
        layout_mode = img2pdf.get_fixed_dpi_layout_fun((dpi, dpi))
        atomic_write_bytes(pdf_path, img2pdf.convert(jpegs, layout_fun=layout_mode))
    else:  # every image carries its own dpi
        atomic_write_bytes(pdf_path, img2pdf.convert(jpegs))
    truth: dict[str, Any] = {
        "schema": TRUTH_SCHEMA,
        "form_key": layout.form_key,
        "seed": seed,
        "dpi": dpi,
        "damage": damage.__dict__,
        "files": {BATCH_NAME: files},
        "responses": responses,
    }
    if degradation is not None:
        truth["degradation"] = degradation
    if letters:
        truth["letters"] = letters
    truth_path = out_dir / TRUTH_NAME
    atomic_write_text(truth_path, json.dumps(truth, indent=1, ensure_ascii=False))
    return SimulatedBatch(pdf_path, truth_path, len(jpegs), len(responses))


def _degraded(image: Image8, plan: CopyPlan, tinted: bool, rng: np.random.Generator,
              degrade_rng: np.random.Generator, scanner: DegradingScanner | None,
              ) -> tuple[Future[bytes], dict[str, Any]]:
    """A filled BGR page through the copy's degradation profile, encoded as its scanner would,
    and what truth.json records of it. Paper is tinted by `rng` as for a colour scan without
    degradation, or by the degradation's own draws when only its scanner is in colour."""
    if tinted:
        image = tint_paper(image, rng)
    elif plan.mode == "colour":
        image = tint_paper(image, degrade_rng)
    page = plan_page(degrade_rng)
    if scanner is None:
        raise ValueError("a degraded page is scanned by a DegradingScanner")
    return scanner.scan(image, plan, page), {
        "profile": plan.profile, "mode": plan.mode, "dpi": plan.dpi,
        "upside_down": page.upside_down, "skew": round(page.skew_deg, 2)}


def _fill_page(image: Image8, layout: Layout, page: int, answers: dict[str, Any], scale: float,
               pen: Pen, mark_style: str, font_path: Path, rng: np.random.Generator,
               carried: dict[str, str], varied: bool = False) -> tuple[Image8, dict[str, str]]:
    """The page filled in, and what is left to write of texts that continue on later pages."""
    style = LARGE_PRINT if layout.large_print else STANDARD
    written = dict(carried)
    cancelled = _cancelled_boxes(layout, page, answers, rng) if varied else set()
    for field in layout.page_layout(page).fields:
        answer = answers.get(field.question)
        box = _to_pixels(field.box, scale)
        if field.kind == "choice":
            chosen = answer == field.value or (isinstance(answer, list) and field.value in answer)
            if (field.question, field.value) in cancelled:
                image = draw_fill(image, box, pen, rng)
            elif chosen:
                image = MARKS[mark_style](image, box, pen, rng)
        elif field.kind == "char" and answer and field.index is not None:
            question = layout.questionnaire.question(field.question)
            text = cell_text(question, str(answer))
            if field.index < len(text) and text[field.index].strip():
                image = write_cell(image, box, text[field.index], font_path, pen, rng)
        elif field.kind == "text" and answer:
            remaining = written.get(field.question, str(answer))
            image, rest = write_text(image, box, remaining, font_path,
                                     int(style.line * scale), Pen(pen.colour, 1), rng)
            written[field.question] = rest
    return image, written


def _pick_pen(rng: np.random.Generator, varied: bool, in_colour: bool,
              pens: tuple[str, ...]) -> tuple[str, Pen]:
    """The respondent's writing tool: any of a varied corpus's (pale blue ones only on colour
    scans), one of those named, or else a black or blue ballpoint."""
    if pens or varied:
        everything = WRITING_TOOLS + COLOUR_SCAN_TOOLS
        tools: tuple[tuple[str, tuple[int, int, int], tuple[int, int]], ...] = (
            tuple(t for t in everything if t[0] in pens) if pens
            else everything if in_colour else WRITING_TOOLS)
        name, ink, widths = tools[int(rng.integers(len(tools)))]
        return name, Pen(ink, int(rng.integers(widths[0], widths[1] + 1)))
    return "ballpoint", Pen(PEN_COLOURS[int(rng.integers(len(PEN_COLOURS)))],
                            int(rng.integers(2, 5)))


def tint_paper(image: Image8, rng: np.random.Generator) -> Image8:
    """Off-white paper under a colour scanner's light: a little less blue, a little less green."""
    tint = np.array([rng.uniform(0.88, 0.97), rng.uniform(0.95, 0.99), 1.0], dtype=np.float32)
    return np.asarray(np.clip(image.astype(np.float32) * tint, 0, 255), dtype=np.uint8)


def _cancelled_boxes(layout: Layout, page: int, answers: dict[str, Any],
                     rng: np.random.Generator) -> set[tuple[str, str]]:
    """Now and then a respondent changes their mind: a box filled in, another one ticked."""
    cancelled: set[tuple[str, str]] = set()
    questions = dict.fromkeys(f.question for f in layout.page_layout(page).fields
                              if f.kind == "choice")  # in page order: the corpus is seeded
    for question in questions:
        answer = answers.get(question)
        if layout.questionnaire.question(question).type != "select_one" or not answer:
            continue
        if rng.random() < CANCEL_SHARE:
            others = [c for c in layout.questionnaire.question(question).choice_names()
                      if c != answer]
            cancelled.add((question, str(others[int(rng.integers(len(others)))])))
    return cancelled


def _questionnaire_pages(form_dir: Path, layout: Layout) -> list[tuple[Path, int]]:
    """(file, page number) of every questionnaire page in print order, cover letters and blank
    pages left out."""
    per_copy = layout.pages_per_copy  # letter, questionnaire, blank pages of a duplex print
    pages: list[tuple[Path, int]] = []
    for pdf in form_pdfs(form_dir):
        count = page_count(pdf)
        if count % per_copy:
            raise LayoutError(f"{pdf} has {count} pages, not whole copies of {per_copy} pages")
        for start in range(0, count, per_copy):
            first = start + layout.letter_pages + 1
            pages += [(pdf, first + i) for i in range(len(layout.pages))]
    if len(pages) != len(layout.copies) * len(layout.pages):
        raise LayoutError(f"the PDFs in {form_dir} do not hold the copies its layout.json lists")
    return pages


def _to_pixels(box: Box, scale: float) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return (round(x0 * scale), round(y0 * scale), round(x1 * scale), round(y1 * scale))
