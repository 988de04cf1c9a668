"""Character cells (comb fields): one letter or digit per printed cell, checked by type.

Empty cells are found from their ink alone. The written ones are cleaned of cell-wall remnants and
specks, put side by side and read as one line with only the characters the field allows: in a line
tesseract reads a lone "0" that it refuses on its own. Each character comes back with its own box
and confidence, so each is given to its cell. The line is read at two sizes, and a cell the two
reads disagree on goes to a person; a cell that got no character, several, or one its position
cannot hold (a letter where a postcode needs a digit) is read again on its own, with only the
characters that position allows. Numbers, dates and UK postcodes are then validated; what fails
goes to a person.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline import postcode
from pipeline.errors import ProgramFailedError
from pipeline.forms.constraint import read_constraint
from pipeline.model import Question
from pipeline.programs.tesseract import OcrChar, ocr_chars
from pipeline.read.text import (
    SPECKS_ONLY,
    TextReading,
    speckled,
    stroke_threshold,
)
from pipeline.records import FieldBox, flag_reason

Image8 = NDArray[np.uint8]

CELL_INSET = 0.06  # share of the cell's side left out at each edge: the wall and a little play
WALL_ZONE = 0.2  # share of the crop's side, at each edge, where a printed line may be left
PRINTED_LINE = 0.5  # a row or column inked across this share of the crop is printed, not written
EMPTY_CELL_INK = 0.012  # less ink than this share of the crop, walls taken out, is an empty cell
SPECK_SHARE = 0.004  # ink components smaller than this share of the cell are noise
TONER_HEIGHT = 0.7  # in speckle, a cell's ink less tall than this share of its neighbours' is toner
BODY_REACH = 0.1  # in speckle, a character's pieces lie this share of the cell from its main one
TONER_ONLY = 0.6  # and, less tall than this share, empty whatever a read made of it
WALL_PX = 3  # a component this thin along the crop's edge is what is left of the cell wall
FLAT_INK = 0.15  # ink less tall than this share of the cell is no character
WALL_SPAN = 0.9  # as is a line no thicker on average right across it, however bent
# A character both reads agree on less confidently than this goes to a person. On the simulated
# corpus every right character was read at 90 or more; on real scans wrong ones came at 73-75.
LOW_CONFIDENCE = 80.0
SECOND_LOOK = 0.7  # the line is read again at this size
BORDER = 16
CLOCK_CELLS = {"date": 8, "time": 4, "datetime": 12}  # DD MM YYYY, HH MM, and both
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
WHITELISTS = {
    "digits": DIGITS,
    "capitals": LETTERS,
    "alphanumeric": LETTERS + DIGITS,
    "any": "",
}
POSTCODE_FIRST, POSTCODE_SECOND, POSTCODE_UNIT = postcode.FIRST, postcode.SECOND, postcode.UNIT
# Letters and digits a handwritten character is read as, one for the other.
LOOK_ALIKES = {"O": "0", "I": "1", "S": "5", "B": "8", "Z": "2", "G": "6",
               "0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "6": "G"}


def read_cells(image: Image8, cells: Sequence[FieldBox], question: Question, scale: float,
               threshold: int, timeout: float) -> TextReading:
    """The cells of one question as the online export codes the answer, with what a person
    should check: cells not recognised or unsure, or a value that fails validation."""
    ordered = sorted(cells, key=lambda c: c.index or 0)
    return read_cell_crops([_cell_interior(image, c, scale) for c in ordered],
                           _strip(image, ordered, scale), question, scale, threshold, timeout)


def read_cell_crops(crops: Sequence[Image8], strip: Image8, question: Question, scale: float,
                    threshold: int, timeout: float) -> TextReading:
    """read_cells on the cells' inner crops, in order (`strip`: all the cells, for a person).

    In speckle (a dirty drum's toner, a photocopy's) a cell may hold toner and no character.
    Characters in one question's cells are written to one size: ink in a cell whose tallest
    piece is much shorter than the others' characters is toner: under three fifths of their
    height it is set aside before the line is read, and under seven tenths the cell is empty
    when no read takes it for a character, unsure when one does."""
    own = stroke_threshold(np.concatenate([c.ravel() for c in crops]), threshold)
    inks = [crop < own for crop in crops]
    through_speckle = speckled(_side_by_side(inks), scale)
    glyphs = [_glyph(ink, through_speckle) for ink in inks]
    if through_speckle:
        glyphs = _toner_dropped(glyphs, crops)
    written = [g for g in glyphs if g is not None]
    if not written:
        return TextReading("", 1.0, strip)
    try:
        read = _read_written(written, question, timeout)
    except ProgramFailedError as exc:
        return TextReading("", 0.0, strip, problem=flag_reason("OCR failed", str(exc)))
    chars = iter(read)
    placed = [next(chars) if g is not None else None for g in glyphs]
    if through_speckle:
        placed = _toner_set_aside(placed, glyphs, crops)
        if not any(placed):
            return TextReading("", SPECKS_ONLY, strip)
    spaced = "".join(" " if c is None else c.text or "?" for c in placed)  # a cell a character
    text = spaced.strip()
    confidence = min(c.confidence for c in placed if c is not None) / 100.0
    if through_speckle:
        confidence = min(confidence, SPECKS_ONLY)
    unread = [i + 1 for i, c in enumerate(placed) if c is not None and not c.text]
    if unread:
        return TextReading(text, 0.0, strip, problem=flag_reason(
            "OCR low confidence", f"cell {' '.join(map(str, unread))} not recognised"))
    value, problem = validate(question, spaced)
    if not problem and confidence * 100 < LOW_CONFIDENCE:
        unsure = [str(i + 1) for i, c in enumerate(placed)
                  if c is not None and c.confidence < LOW_CONFIDENCE]
        problem = flag_reason("OCR low confidence", f"cell {' '.join(unsure)} unsure")
    return TextReading(value, confidence, strip, problem)


def _toner_set_aside(placed: Sequence[OcrChar | None], glyphs: Sequence[Image8 | None],
                     crops: Sequence[Image8]) -> list[OcrChar | None]:
    """The cells' characters with toner set aside: a cell whose tallest piece of ink is much
    shorter than the characters read surely in the others is empty when nothing was read in
    it or when it is shorter still (TONER_ONLY: tesseract takes a clump of toner for a 7 or
    an E, and a digit broken by speckle keeps a stroke taller than that), and unsure when
    something was. Without a sure character to compare, nothing is."""
    tallest = _tallest_shares(glyphs, crops)
    sure = [t for t, c in zip(tallest, placed, strict=True)
            if c is not None and c.text and c.confidence >= LOW_CONFIDENCE]
    if not sure:
        return list(placed)
    middle = float(np.median(sure))
    kept: list[OcrChar | None] = []
    for char, height in zip(placed, tallest, strict=True):
        if char is not None and height < TONER_HEIGHT * middle:
            toner = not char.text or height < TONER_ONLY * middle
            char = None if toner else replace(char, confidence=0.0)
        kept.append(char)
    return kept


def _toner_dropped(glyphs: Sequence[Image8 | None], crops: Sequence[Image8]
                   ) -> list[Image8 | None]:
    """The glyphs less those that are only toner, before any is read: in a line, a clump of
    toner read as a character draws its neighbours' reading wrong too. A glyph whose tallest
    piece is under TONER_ONLY of the middle of the written cells' is toner; a digit broken by
    speckle keeps a stroke taller than that."""
    tallest = _tallest_shares(glyphs, crops)
    written = [t for g, t in zip(glyphs, tallest, strict=True) if g is not None]
    if len(written) < 2:
        return list(glyphs)
    short = TONER_ONLY * float(np.median(written))
    return [None if g is not None and t < short else g
            for g, t in zip(glyphs, tallest, strict=True)]


def _tallest_shares(glyphs: Sequence[Image8 | None], crops: Sequence[Image8]) -> list[float]:
    """Each glyph's tallest piece of ink as a share of its cell's height (0 for an empty cell)."""
    return [_tallest(g) / max(1, c.shape[0]) if g is not None else 0.0
            for g, c in zip(glyphs, crops, strict=True)]


def _tallest(glyph: Image8) -> int:
    """The height of the glyph's tallest piece of ink, in pixels."""
    _, _, stats, _ = cv2.connectedComponentsWithStats((glyph < 128).astype(np.uint8),
                                                      connectivity=8)
    return int(stats[1:, cv2.CC_STAT_HEIGHT].max()) if len(stats) > 1 else 0


def validate(question: Question, text: str) -> tuple[str, str]:
    """The value as the online export codes it, and what is wrong with it, if anything.

    `text` holds one character per cell, a space for an empty one: a rank's cells are read by
    their place."""
    if question.type == "rank":
        return _ranked(question, text)
    compact = text.replace(" ", "")
    if question.type in ("integer", "decimal"):
        return _number(question, compact)
    if question.type == "date":
        not_a_date = flag_reason("failed validation", "not a date (day, month, year)")
        if len(compact) != 8 or not compact.isdigit():
            return compact, not_a_date
        try:
            day = datetime.date(int(compact[4:8]), int(compact[2:4]), int(compact[0:2]))
        except ValueError:
            return compact, not_a_date
        return day.isoformat(), ""
    if question.type in ("time", "datetime"):
        return _clock(question.type, compact)
    if is_postcode(question):
        value = postcode.normalised(text)
        if not postcode.is_postcode(value):
            return value, flag_reason("failed validation", "not a UK postcode")
        return value, ""
    return " ".join(text.split()), ""


def _number(question: Question, compact: str) -> tuple[str, str]:
    """The digits as the export writes the number (a decimal's last `decimals` digits after
    its point), checked against the bounds of the question's constraint."""
    places = question.decimals if question.type == "decimal" else 0
    if not compact.isdigit() or len(compact) <= places:
        return compact, flag_reason("failed validation", "not a number")
    value = f"{int(compact[:-places])}.{compact[-places:]}" if places else str(int(compact))
    bounds = read_constraint(question.constraint, question.name).bounds
    if not bounds.holds(Decimal(value)):
        return value, flag_reason("failed validation",
                                  f"{value} is outside the question's limits "
                                  f"({bounds.said()}: {question.constraint})")
    return value, ""


def _clock(kind: str, compact: str) -> tuple[str, str]:
    """HHMM as HH:MM; DDMMYYYYHHMM as YYYY-MM-DDTHH:MM, as ODK's export writes them."""
    wanted = 4 if kind == "time" else 12
    problem = flag_reason("failed validation", "not a time (hours, minutes)" if kind == "time"
                          else "not a date and time (day, month, year, hours, minutes)")
    if len(compact) != wanted or not compact.isdigit():
        return compact, problem
    hours, minutes = int(compact[-4:-2]), int(compact[-2:])
    if hours > 23 or minutes > 59:
        return compact, problem
    clock = f"{compact[-4:-2]}:{compact[-2:]}"
    if kind == "time":
        return clock, ""
    try:
        day = datetime.date(int(compact[4:8]), int(compact[2:4]), int(compact[0:2]))
    except ValueError:
        return compact, problem
    return f"{day.isoformat()}T{clock}", ""


def _ranked(question: Question, text: str) -> tuple[str, str]:
    """The choices' names in the order of the numbers written beside them (1 first), as ODK
    exports a rank; the numbers must run 1, 2, 3... each once (the rest may be left blank)."""
    digits = question.rank_digits
    ranks: dict[int, str] = {}
    written = []
    for position, choice in enumerate(question.choices):
        cell = text[position * digits:(position + 1) * digits].strip()
        if not cell:
            continue
        written.append(cell)
        if cell.isdigit() and int(cell) not in ranks:
            ranks[int(cell)] = choice.name
        else:
            ranks[0] = ""  # not a number, or a number twice: no order can be read
    value = " ".join(ranks[rank] for rank in sorted(ranks) if rank)
    if sorted(ranks) != list(range(1, len(ranks) + 1)):
        return " ".join(written), flag_reason(
            "failed validation", f"ranks {' '.join(written)}: not 1, 2, 3... each once")
    return value, ""


def is_postcode(question: Question) -> bool:
    """Printed as postcode cells; or, in a layout from before cells had shapes, named so."""
    if question.shape:
        return question.shape == "postcode"
    return "postcode" in question.name.lower() or "post_code" in question.name.lower()


def _charset(question: Question) -> str:
    if question.type in ("integer", "decimal", "date", "time", "datetime", "rank"):
        return DIGITS
    return WHITELISTS[question.charset]


def _allowed(question: Question, first_read: Sequence[str]) -> list[str]:
    """What each written cell may hold, in order, given what the line read made of them.

    A UK postcode's first character is a letter and its unit a digit and two letters; in six
    characters a letter second (MB1 2AB) means a digit third, and in seven the third is a digit.
    A letter no postcode has second (I, Z) is the digit it looks like (W1A read as WIA), and
    an outward code's last letter is one of the few that end one (never O: EC1A, YO10).
    """
    charset = _charset(question)
    written = len(first_read)
    allowed = [charset] * written
    if written == CLOCK_CELLS.get(question.type):
        return _calendar_allowed(question.type, first_read)
    if is_postcode(question) and 5 <= written <= 7:
        allowed[0] = POSTCODE_FIRST
        allowed[-3:] = [DIGITS, POSTCODE_UNIT, POSTCODE_UNIT]
        if written == 5:
            allowed[1] = DIGITS
        elif written == 7 or _fits(first_read[1], POSTCODE_SECOND):
            allowed[1:3] = [POSTCODE_SECOND, DIGITS]
            if written == 7:
                allowed[3] = DIGITS + postcode.AFTER_DIGITS
        else:
            allowed[1:3] = [DIGITS + POSTCODE_SECOND, DIGITS + postcode.AFTER_DIGIT]
    return allowed


def _calendar_allowed(kind: str, first_read: Sequence[str]) -> list[str]:
    """What each cell of a date, time or date and time may hold, every cell written.

    A day's first digit is 0-3 and a month's 0 or 1, an hour's 0-2 and a minute's 0-5; the digit
    after one is bounded by it when it was read as its position allows (a day 3x is 30 or 31, a
    month 1x is 10-12, an hour 2x is 20-23). A year is of this century or the last two (the
    dates a consultation asks for: a birth, a visit, today): after a 2 comes a 0, after a 1 an
    8 or a 9. A figure read outside its position ("94" for a month, 2925 for a year) is read
    again on its own as the position allows, and goes to a person unless that read is sure
    (_agreed)."""
    day: list[tuple[str, dict[str, str]]] = [
        ("0123", {"3": "01", "0": "123456789"}), (DIGITS, {}),
        ("01", {"1": "012", "0": "123456789"}), (DIGITS, {}),
        ("12", {"2": "0", "1": "89"}), (DIGITS, {}), (DIGITS, {}), (DIGITS, {})]
    clock: list[tuple[str, dict[str, str]]] = [
        ("012", {"2": "0123"}), (DIGITS, {}), ("012345", {}), (DIGITS, {})]
    cells = {"date": day, "time": clock, "datetime": day + clock}[kind]
    allowed = [position for position, _ in cells]
    for at, (position, next_one) in enumerate(cells):
        if first_read[at] in next_one and first_read[at] in position:
            allowed[at + 1] = next_one[first_read[at]]
    return allowed


def _read_written(glyphs: Sequence[Image8], question: Question,
                  timeout: float) -> list[OcrChar]:
    """One character (or "" where none was recognised) per written cell.

    The line is read twice, at two sizes (one above the other, in one call of tesseract): on
    real handwriting tesseract is as sure of a wrong digit as of a right one (a flat-topped 3
    read as 4 at 98 %, as 3 at the other size), but rarely wrong the same way twice. Where the
    two do not give the same character, the cell is read alone as well, with only the characters
    its position allows (_agreed); a cell still in doubt goes to a person with a best guess.
    """
    line, spans = _line_image(glyphs)
    first, second = _two_looks(line, spans, _charset(question), timeout)
    allowed = _allowed(question, [c.text if c is not None else "" for c in first])
    read = []
    for glyph, one, two, cell_allows in zip(glyphs, first, second, allowed, strict=True):
        looks = [c for c in (one, two) if c is not None and _fits(c.text, cell_allows)]
        if len(looks) == 2 and looks[0].text == looks[1].text:
            surer = max(looks, key=lambda c: c.confidence)
            if surer.confidence < LOW_CONFIDENCE:
                surer = _confirmed(surer, _read_alone(glyph, cell_allows, timeout))
            read.append(surer)
            continue
        alone = _read_alone(glyph, cell_allows, timeout)
        agreed = _agreed(one, two, alone, cell_allows)
        if agreed is not None:
            read.append(agreed)
            continue
        read.append(_best_guess([*looks, *([alone] if alone is not None else [])]))
    return read


def _two_looks(line: Image8, spans: Sequence[tuple[int, int]], charset: str,
               timeout: float) -> tuple[list[OcrChar | None], list[OcrChar | None]]:
    """The line as it is and, below it, at SECOND_LOOK of its size, read in one call: for each
    glyph, the one character each read found in its place (None where none, or several)."""
    small = np.asarray(cv2.resize(line, None, fx=SECOND_LOOK, fy=SECOND_LOOK,
                                  interpolation=cv2.INTER_AREA), dtype=np.uint8)
    height = line.shape[0]
    both = np.full((height + small.shape[0], line.shape[1]), 255, dtype=np.uint8)
    both[:height] = line
    both[height:, : small.shape[1]] = small
    found: tuple[list[list[OcrChar]], list[list[OcrChar]]] = ([[] for _ in spans],
                                                              [[] for _ in spans])
    for char in ocr_chars(both, psm=6, timeout=timeout, whitelist=charset):
        upper = (char.box[1] + char.box[3]) / 2 < height
        middle = (char.box[0] + char.box[2]) / 2 / (1.0 if upper else SECOND_LOOK)
        nearest = min(range(len(spans)), key=lambda i: abs((spans[i][0] + spans[i][1]) / 2
                                                           - middle))
        found[0 if upper else 1][nearest].append(char)
    first, second = ([chars[0] if len(chars) == 1 else None for chars in look] for look in found)
    return first, second


def _confirmed(agreed: OcrChar, alone: OcrChar | None) -> OcrChar:
    """A character both line reads gave unsurely, as sure as the cell read alone makes it when
    that read gives the same character surely: three reads of two kinds agree."""
    if alone is not None and alone.text == agreed.text and alone.confidence >= LOW_CONFIDENCE:
        return replace(agreed, confidence=LOW_CONFIDENCE)
    return agreed


def _agreed(one: OcrChar | None, two: OcrChar | None, alone: OcrChar | None,
            allowed: str) -> OcrChar | None:
    """The character of a cell the two line reads did not both give, when it is plain anyway.

    Reads that found nothing or several characters there say nothing; two that each give a
    character the position may hold but differ mean the cell goes to a person. The rest must
    agree: a line read and the cell read alone; or, when both line reads gave a look-alike the
    position cannot hold (I where a postcode's district needs 1), the cell read alone as the
    position allows; or two reads, once a look-alike the position cannot hold is taken for the
    character it looks like (S read where a digit must be is 5).
    """
    looks = [c for c in (one, two) if c is not None and _fits(c.text, allowed)]
    if len(looks) == 2:
        return None  # the two line reads disagree
    excluded = [c for c in (one, two) if c is not None and len(c.text) == 1
                and not _fits(c.text, allowed)]
    if alone is not None and looks and looks[0].text == alone.text:
        return min(looks[0], alone, key=lambda c: c.confidence)
    if alone is not None and not looks and len(excluded) == 2:
        return alone
    reads = [c for c in (one, two, alone) if c is not None and len(c.text) == 1]
    taken = [_as_allowed(c, allowed) for c in reads]
    plain = [c for c in taken if c is not None]
    if len(reads) >= 2 and len(plain) == len(reads) and len({c.text for c in plain}) == 1:
        return min(plain, key=lambda c: c.confidence)
    return None


def _as_allowed(char: OcrChar, allowed: str) -> OcrChar | None:
    """The character as the position allows it: itself, or the one it looks like where the
    position cannot hold it (None where neither fits)."""
    if _fits(char.text, allowed):
        return char
    other = LOOK_ALIKES.get(char.text, "")
    return replace(char, text=other) if _fits(other, allowed) else None


def _best_guess(reads: Sequence[OcrChar]) -> OcrChar:
    """For the person who checks a cell the line reads did not agree on: the character most
    reads agree on, else the most confident, at no confidence ("" when nothing was read)."""
    if not reads:
        return OcrChar("", 0.0, (0, 0, 0, 0))
    best = max(reads, key=lambda c: (sum(r.text == c.text for r in reads), c.confidence))
    return replace(best, confidence=0.0)


def _read_alone(glyph: Image8, allowed: str, timeout: float) -> OcrChar | None:
    """The cell read on its own (tesseract's single-character mode), as its position allows."""
    image = np.asarray(cv2.copyMakeBorder(glyph, BORDER, BORDER, BORDER, BORDER,
                                          cv2.BORDER_CONSTANT, value=255), dtype=np.uint8)
    chars = [c for c in ocr_chars(image, psm=10, timeout=timeout, whitelist=allowed)
             if _fits(c.text, allowed)]
    if len(chars) != 1:
        return None
    return chars[0]


def _fits(text: str, allowed: str) -> bool:
    return len(text) == 1 and (not allowed or text in allowed)


def _glyph(ink: NDArray[np.bool_], in_speckle: bool = False) -> Image8 | None:
    """The character in a cell's ink, black on white and cropped to it; None for an empty cell.

    The crop reaches almost to the cell's walls, since people write as large as the cell (a
    tighter crop cut the tops off real 2s and 3s). What the walls leave in it is taken out:
    rows and columns near its edges inked across half of it (a wall a little off its layout
    position), components along its edges no thicker than a line, and lines right across it
    (a wall a fold bends into it); specks are scanner noise. `in_speckle`: the cell lies in
    a drum's or glass's speckle, whose larger specks lie all over it; only ink beside its
    tallest piece is the character's (_beside_tallest).
    """
    if ink.size == 0:
        return None
    height, width = ink.shape
    ink = _without_bent_walls(ink)
    zone_y, zone_x = max(1, round(WALL_ZONE * height)), max(1, round(WALL_ZONE * width))
    rows = np.flatnonzero(ink.mean(axis=1) >= PRINTED_LINE)
    cols = np.flatnonzero(ink.mean(axis=0) >= PRINTED_LINE)
    ink[rows[(rows < zone_y) | (rows >= height - zone_y)], :] = False
    ink[:, cols[(cols < zone_x) | (cols >= width - zone_x)]] = False
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8),
                                                               connectivity=8)
    keep = np.zeros(count, dtype=bool)
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area < SPECK_SHARE * ink.size:
            continue
        if (x == 0 or x + w == width) and w <= WALL_PX and h > height / 2:
            continue
        if (y == 0 or y + h == height) and h <= WALL_PX and w > width / 2:
            continue
        keep[label] = True
    if in_speckle and keep.any():
        keep &= _beside_tallest(np.asarray(stats, dtype=np.int32), keep, height)
    mask = keep[labels]
    if float(mask.mean()) < EMPTY_CELL_INK:
        return None
    ys, xs = np.nonzero(mask)
    if ys.max() - ys.min() + 1 < FLAT_INK * height:
        return None  # a sliver of a wall along the cell's edge: no character is this flat
    mask = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return np.where(mask, 0, 255).astype(np.uint8)


def _beside_tallest(stats: NDArray[np.int32], keep: NDArray[np.bool_], height: int
                    ) -> NDArray[np.bool_]:
    """Which pieces of a cell's ink lie beside its tallest kept piece (the character's main
    stroke, or the most of it): their middle within BODY_REACH of the cell's height of its
    box. A character's other strokes (the bar of a 5 or a 4 written in two) lie beside it;
    toner strewn at the cell's corners does not, and tesseract reads a glyph cropped to
    include it as another character, or at a guess."""
    x, y, w, h = (stats[:, i] for i in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH,
                                         cv2.CC_STAT_HEIGHT))
    tallest = int(np.argmax(np.where(keep, h, -1)))
    reach = BODY_REACH * height
    middle_x, middle_y = x + w / 2, y + h / 2
    return np.asarray((middle_x >= x[tallest] - reach)
                      & (middle_x <= x[tallest] + w[tallest] + reach)
                      & (middle_y >= y[tallest] - reach)
                      & (middle_y <= y[tallest] + h[tallest] + reach), dtype=np.bool_)


def _without_bent_walls(ink: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The cell's ink less the walls a fold bends into it: thin lines, curved or at a slant,
    right across it (a digit is never so thin for its length)."""
    height, width = ink.shape
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8),
                                                           connectivity=8)
    h, w = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    area = stats[:, cv2.CC_STAT_AREA]
    wall = (((h >= WALL_SPAN * height) & (area <= WALL_PX * h))
            | ((w >= WALL_SPAN * width) & (area <= WALL_PX * w)))
    wall[0] = False
    return np.asarray(ink & ~wall[labels], dtype=np.bool_)


def _line_image(glyphs: Sequence[Image8]) -> tuple[Image8, list[tuple[int, int]]]:
    """The glyphs side by side, centred on one line, and where each one lies (left, right)."""
    height = max(g.shape[0] for g in glyphs)
    gap = max(4, height // 3)
    parts: list[Image8] = [np.full((height, gap), 255, dtype=np.uint8)]
    spans = []
    x = BORDER + gap
    for glyph in glyphs:
        column = np.full((height, glyph.shape[1]), 255, dtype=np.uint8)
        top = (height - glyph.shape[0]) // 2
        column[top : top + glyph.shape[0], :] = glyph
        parts += [column, np.full((height, gap), 255, dtype=np.uint8)]
        spans.append((x, x + glyph.shape[1]))
        x += glyph.shape[1] + gap
    line = np.hstack(parts)
    return np.asarray(cv2.copyMakeBorder(line, BORDER, BORDER, BORDER, BORDER,
                                         cv2.BORDER_CONSTANT, value=255), dtype=np.uint8), spans


def _side_by_side(inks: Sequence[NDArray[np.bool_]]) -> NDArray[np.bool_]:
    """The cells' ink in one row, a column of paper between cells, for counting specks."""
    height = max(ink.shape[0] for ink in inks)
    parts = [np.pad(ink, ((0, height - ink.shape[0]), (0, 1))) for ink in inks]
    return np.asarray(np.hstack(parts), dtype=np.bool_)


def _cell_interior(image: Image8, cell: FieldBox, scale: float) -> Image8:
    x0, y0, x1, y1 = (v * scale for v in cell.box)
    dx, dy = (x1 - x0) * CELL_INSET, (y1 - y0) * CELL_INSET
    return np.ascontiguousarray(image[round(y0 + dy) : round(y1 - dy),
                                      round(x0 + dx) : round(x1 - dx)])


def _strip(image: Image8, cells: Sequence[FieldBox], scale: float) -> Image8:
    x0 = min(c.box[0] for c in cells) * scale
    y0 = min(c.box[1] for c in cells) * scale
    x1 = max(c.box[2] for c in cells) * scale
    y1 = max(c.box[3] for c in cells) * scale
    return np.ascontiguousarray(image[round(y0) : round(y1), round(x0) : round(x1)])
