"""Tick-box classification: how much ink is inside a box, measured against this page's paper."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.read.register import INK_OF_PAPER
from pipeline.records import Box

Image8 = NDArray[np.uint8]
BoxState = Literal["empty", "marked", "cancelled"]

INSET = 0.18  # share of the box side skipped at each edge, so the printed outline is not ink
MARKED_AT = 0.06  # share of inked pixels above which a box is marked
UNSURE_BAND = (0.025, 0.10)  # between these the reading is unsure
CANCELLED_AT = 0.78  # a box filled in this much is a cancelled mark


EVEN_FILL = 0.5  # a cancelled box is dark everywhere, a fat cross leaves its sides white
FAINT_OF_PAPER = 0.85  # light grey ink: darker than this share of the paper
FAINT_MARK = 0.04  # this much faint ink in a box is a mark someone may have meant
SURROUND_NEAR, SURROUND_FAR = 0.1, 0.45  # the band outside the box searched for a ring, in sides
RING_GAPS = 0.15  # closing the gaps in a ring's ink adds less than this (a toner cloud gains more)
# and its line runs along at least this share of each side: on the mailroom corpora rings ran
# along 0.79-0.98 of each side, a roller's lines across the bands 0.13-0.34 and clouds of toner
# round a box 0.31-0.62 of its least inked side
RING_SPAN = 0.7
OUTLINE = 0.1  # share of the box side taken by the printed outline (and a pixel of play)
EDGE_INK = 0.02  # ink between the outline and the inner area: a stroke crossing the box's edge
PRINTED_LINE = 0.5  # a row or column of the box inked across this share of it is printed
# Noise: what a dirty drum, scanner glass or fax leaves on a page.
REMNANT = 0.12  # a line this close to the frame's border, this thin, is the printed outline
# In a box askew on its outline (a fold): ink this long, this share of it within this band of
# the border, is the outline; a straight piece this thin for its length, within this of level,
# is an edge of it; a mark is sure with this much ink, or a stroke.
REMNANT_LONG, BORDER_BAND, BORDER_SHARE = 0.35, 0.22, 0.92
OUTLINE_THICK = 0.16  # and no thicker than this for its length: a felt marker's stroke is thicker
LINE_ELONGATION, LEVEL_DEGREES = 0.05, 20.0
ASKEW_FILL = 0.25
STREAK_SPAN, STREAK_THICK = 0.9, 0.2  # a streak crosses the whole frame, thin (in sides)
STREAK_REACH, STREAK_CONTINUES = 1.2, 0.6  # and carries on this far either side, across most of it
DOTTED_THICK, DOTTED_CONTINUES = 0.35, 0.25  # a row of dots: thicker, with gaps
MIN_SPECK = 0.004  # of the frame's area: pieces of ink this small are never a mark
MAX_SPECK = 0.03  # nor is a piece of noise assumed larger than this (a small dot is about 0.03)
SPECK_PERCENTILE, MIN_SPECKS = 97, 20
HEAVY_NOISE = 0.06  # a page whose boxes carry this much speckle says so
PAGE_NOISE = 0.03  # a page this speckled has every box read against its speckle
LOCAL_NEAR, LOCAL_FAR = 0.15, 0.6  # the paper around a box looked at for speckle, in sides
SPECK_EXTENT = 0.3  # a piece of speckle is smaller than this (a letter is larger), in sides
CLOUD_THICK = 0.25  # or, run together, at least this thick (area over length, in sides)
LOCAL_NOISE = 0.03  # this much speckle around a box: its ink is read against the speckle
LOCAL_SPECK_MARGIN = 1.5  # a mark's stroke is this much larger than the largest speck near it
NOISE_MARGIN = 0.08  # a mark in speckle puts this much more ink in the box than around it
STROKE_SPAN = 0.6  # a stroke runs this far across the box's frame
STROKE_INNER = 0.012  # and through the inner area
RUN_OUT = 0.7  # a tick's arm runs this far out of its box (in sides) and ends there
RUN_INSIDE = 0.3  # a line running through a box puts this much ink in it (pixels, in sides)
STROKE_THICK = 0.35  # and no thicker than this for its length (area over length, in sides)
SPECKLED_PIECES = 8  # a box with its ink in this many pieces is itself speckled
SOLID_GAPS = 0.15  # a pen's ink: closing its gaps adds at most this share (a cloud gains more)
# Toner (a dirty drum's cluster, a photocopy's grime) is porous: closing its gaps adds this much
# to it, where a pen's stroke gains a few per cent. Porous ink in a box that holds this many
# pieces of ink may be toner, unless it closes up into a pen's stroke.
POROUS_GAPS, POROUS_PIECES = 0.09, 3
# A box holding this many pieces sits in toner: ink even this porous may be a dense cluster of
# it, whatever its shape.
TONER_PIECES, TONER_GAPS = 10, 0.06
POROUS_CONFIDENCE = 0.55  # toner or a mark: a person looks
# On a grey or colour scan a respondent's pen is about as dark wherever it writes; toner is a
# cloud of mid-grey dots. Ink in speckle this much paler (in tone) than the pen is toner.
TONER_PALER = 0.3
PEN_SHADE = 0.15  # ink as dark as the respondent's pen: its tone, and this much paler
NO_PEN_INK = 0.01  # a box whose inner area holds less ink that dark holds none of the pen's
BLACK_PEN = 0.05  # a pen darker than this is black: a bitonal scan, where toner is black too
TONE_PERCENTILE = 10  # a box's tone: this percentile of its ink's grey
STROKE_CONFIDENCE = 0.9
NOISY_CONFIDENCE = 0.85  # a reading made through speckle is never quite sure
# A mark the way bubble forms teach: a solid dot with white all round it.
DOT_SIDE = 0.14  # the dot's least width, in shares of the frame
DOT_FILL = 0.025  # and the least ink it puts in the inner area
SURE_DOT = 0.07  # a smaller dot may be a speck of toner (a dot a fifth of the box across inks 8 %)
BLOB_ASPECT, BLOB_SOLID = 2.0, 0.55
FILLED_RIM = 0.35  # a box filled in to cancel is inked to its edges on every side

# A little ink in the middle that carries on well into the margin is a stroke through the box (a
# tick drawn off-centre or spilling out), not a speck: a mark.
STROKE_FILL, STROKE_EDGE = 0.04, 0.1


@dataclass(frozen=True)
class BoxReading:
    state: BoxState
    fill: float  # share of inked pixels inside the box
    confidence: float  # 0..1
    surround: float = 0.0  # inked share of the barest band just outside (left, above, below)
    faint: bool = False  # unsure only because of light ink (a pencil): low contrast
    edge: float = 0.0  # inked share of the margin between the outline and the inner area
    noisy: bool = False  # read through speckle or streaks around the box
    tone: float = 1.0  # how dark its darkest ink is, as a share of the ink threshold (0: black)
    stroke: bool = False  # marked for a stroke across it rather than the ink in it


@dataclass(frozen=True)
class BoxInk:
    """What is inside one box, measured once, so that the page's noise can be learnt from all its
    boxes before any of them is read."""

    inner: tuple[int, int, int, int]  # the inner area, in the frame's pixels (x0, y0, x1, y1)
    frame: NDArray[np.bool_]  # dark ink inside the printed outline
    labels: NDArray[np.int32]  # its connected components (0: paper)
    areas: NDArray[np.int64]  # area of each component; index 0 unused
    kept: NDArray[np.bool_]  # components that may be a mark: not the outline, not a streak
    faint: float  # light ink in the inner area
    surround: float
    streak: float  # share of the frame taken by streaks crossing the whole box
    local: float = 0.0  # speckle just outside the box: the noise its own ink is measured against
    local_speck: int = 0  # the largest piece of that speckle (pixels)
    local_faint: float = 0.0  # light grey just outside the box (a dirty roller, the back showing)
    askew: bool = False  # not square on its printed outline (a fold, a bent sheet)
    # The frame's grey, and the ink threshold it was measured against: a pen's stroke is dark
    # through, toner on a grey scan is a cloud of mid-grey dots.
    grey: Image8 = field(default_factory=lambda: np.full((1, 1), 255, np.uint8))
    threshold: int = 255

    def speck_sizes(self) -> NDArray[np.int64]:
        """Areas of the components that may be a mark, largest first."""
        return np.sort(self.areas[self.kept])[::-1]


@dataclass(frozen=True)
class PageNoise:
    """The page's own speckle, learnt from its boxes: ink in pieces this small is not a mark."""

    speck_area: int  # pixels; components no larger are specks
    level: float  # share of a box's frame inked by specks and streaks, typical of the page
    faint: float = 0.0  # light grey typical of the page's boxes

    @property
    def heavy(self) -> bool:
        """Whether the page is speckled enough (HEAVY_NOISE) for its notes to call the speckle
        heavy."""
        return self.level >= HEAVY_NOISE


QUIET = PageNoise(0, 0.0)


def measure_box(image: Image8, box: Box, scale: float, threshold: int,
                askew: bool = False) -> BoxInk:
    """The box's ink in pieces. `askew`: the box does not sit square on its printed outline (a
    fold, a bent sheet), so ink that keeps to its border is taken for the outline."""
    x0, y0, x1, y1 = (v * scale for v in box)
    w, h = x1 - x0, y1 - y0
    fx0, fy0 = round(x0 + OUTLINE * w), round(y0 + OUTLINE * h)
    fx1, fy1 = round(x1 - OUTLINE * w), round(y1 - OUTLINE * h)
    inner = (round(x0 + INSET * w) - fx0, round(y0 + INSET * h) - fy0,
             round(x1 - INSET * w) - fx0, round(y1 - INSET * h) - fy0)
    crop = image[max(0, fy0) : max(0, fy1), max(0, fx0) : max(0, fx1)]
    frame = crop < threshold
    ix0, iy0, ix1, iy1 = inner
    faint_share = 0.0
    inner_grey = crop[iy0:iy1, ix0:ix1]
    light = faint_threshold(threshold)
    if inner_grey.size:
        faint_share = float(np.mean(inner_grey < light))
    surround = _surround(image, (x0, y0, x1, y1), threshold)
    # The paper around a box matters only to what is in it: a bare box is bare.
    local, local_speck, local_faint = (
        _local_noise(image, (x0, y0, x1, y1), threshold, light)
        if faint_share > 0 or frame.any() else (0.0, 0, 0.0))
    if not frame.any():
        none = np.zeros(1, dtype=np.int64)
        return BoxInk(inner, frame, np.zeros(frame.shape, dtype=np.int32), none,
                      np.zeros(1, dtype=bool), faint_share, surround, 0.0, local, local_speck,
                      local_faint, askew)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(frame.astype(np.uint8),
                                                              connectivity=8)
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
    kept = np.ones(count, dtype=bool)
    kept[0] = False
    fh, fw = frame.shape
    streak_px = 0
    for label in range(1, count):
        cx, cy, cw, ch = (int(v) for v in stats[label, :4])
        if _outline_remnant(cx, cy, cw, ch, fw, fh) or (
                askew and max(cw, ch) >= REMNANT_LONG * min(fw, fh)
                and areas[label] <= OUTLINE_THICK * min(fw, fh) * max(cw, ch)
                and _along_border(labels[cy : cy + ch, cx : cx + cw] == label, (cx, cy),
                                  (fw, fh))):
            kept[label] = False
        elif _streak(image, (cx + fx0, cy + fy0, cw, ch), (fw, fh), (w, h), threshold):
            kept[label] = False
            streak_px += int(areas[label])
    if kept.any():
        # A dirty drum also leaves rows of dots the length of the page: the pieces left, taken
        # together, may be one such row crossing the box.
        rows = np.flatnonzero(kept)
        x0s, y0s = stats[rows, cv2.CC_STAT_LEFT], stats[rows, cv2.CC_STAT_TOP]
        x1s = x0s + stats[rows, cv2.CC_STAT_WIDTH]
        y1s = y0s + stats[rows, cv2.CC_STAT_HEIGHT]
        ux, uy = int(x0s.min()), int(y0s.min())
        union = (ux + fx0, uy + fy0, int(x1s.max()) - ux, int(y1s.max()) - uy)
        if _streak(image, union, (fw, fh), (w, h), threshold, DOTTED_THICK, DOTTED_CONTINUES):
            kept[rows] = False
            streak_px += int(areas[rows].sum())
    return BoxInk(inner, frame, np.asarray(labels, dtype=np.int32), areas, kept, faint_share,
                  surround, streak_px / max(1, frame.size), local, local_speck, local_faint,
                  askew, crop, threshold)


def faint_threshold(threshold: int) -> int:
    """Light grey ink (a pencil): darker than this, though lighter than the ink threshold."""
    return min(250, round(threshold / INK_OF_PAPER * FAINT_OF_PAPER))


def _local_noise(image: Image8, box: tuple[float, float, float, float],
                 threshold: int, light: int) -> tuple[float, int, float]:
    """Speckle in the paper just outside the box, left of it or above and below it (a band across
    the page or down it): how much ink it puts there, its largest piece, and how much light grey
    (faint ink's shade) lies there."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    near_x, far_x, near_y, far_y = LOCAL_NEAR * w, LOCAL_FAR * w, LOCAL_NEAR * h, LOCAL_FAR * h
    left = image[round(y0) : round(y1), max(0, round(x0 - far_x)) : max(0, round(x0 - near_x))]
    above = image[max(0, round(y0 - far_y)) : max(0, round(y0 - near_y)), round(x0) : round(x1)]
    below = image[round(y1 + near_y) : round(y1 + far_y), round(x0) : round(x1)]
    side = min(w, h)
    if all(band.size == 0 or int(band.min()) >= light for band in (left, above, below)):
        return 0.0, 0, 0.0  # bare paper all round: most boxes of most pages
    # Turned so that the side nearest the box is the band's last column.
    (left_ink, left_piece), (above_ink, above_piece), (below_ink, below_piece) = (
        _speckle(band < threshold, side) for band in (left, above.T, below.T[:, ::-1]))
    # Light grey is compared with the box's inner area, where it is measured: a band across
    # the page takes the same share of both only over the inner area's rows (or columns).
    iy0, iy1 = round(y0 + INSET * h) - round(y0), round(y1 - INSET * h) - round(y0)
    ix0, ix1 = round(x0 + INSET * w) - round(x0), round(x1 - INSET * w) - round(x0)
    left_grey, above_grey, below_grey = (float(np.mean(band < light)) if band.size else 0.0
                                         for band in (left[iy0:iy1], above[:, ix0:ix1],
                                                      below[:, ix0:ix1]))
    grey = max(left_grey, min(above_grey, below_grey))
    across = min(above_ink, below_ink)
    if left_ink >= across:
        return left_ink, left_piece, grey
    return across, max(above_piece, below_piece), grey


def _speckle(ink: NDArray[np.bool_], side: float) -> tuple[float, int]:
    """The share of a band inked by speckle, and its largest piece. A stroke coming out of the box
    (a tick that runs past it) reaches the band's last column, nearest the box, and is not
    speckle."""
    if ink.size == 0 or not ink.any():
        return 0.0, 0
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    x, w, h = (stats[1:, c] for c in (cv2.CC_STAT_LEFT, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
    area = stats[1:, cv2.CC_STAT_AREA]
    extent = np.maximum(w, h)
    # Speckle is small, or, where it is dense enough to run together, a thick cloud; a pen's
    # stroke (a neighbour's tick) and a printed letter are long and thin.
    speckle = (extent <= SPECK_EXTENT * side) | (area >= CLOUD_THICK * side * extent)
    from_box = x + w >= ink.shape[1]
    areas = area[speckle & ~from_box]
    if areas.size == 0:
        return 0.0, 0
    return float(areas.sum()) / ink.size, int(areas.max())


def _outline_remnant(x: int, y: int, w: int, h: int, fw: int, fh: int) -> bool:
    """A thin line along the frame's border, as long as most of a side: the printed outline a
    pixel or two off its place, not ink a person put there."""
    thin_x, thin_y = max(2, round(REMNANT * fw)), max(2, round(REMNANT * fh))
    along_top_or_bottom = h <= thin_y and w >= 0.5 * fw and (y <= thin_y or y + h >= fh - thin_y)
    along_sides = w <= thin_x and h >= 0.5 * fh and (x <= thin_x or x + w >= fw - thin_x)
    return along_top_or_bottom or along_sides


def _along_border(part: NDArray[np.bool_], origin: tuple[int, int],
                  frame: tuple[int, int]) -> bool:
    """Ink that keeps to the frame's border, all of it close to one side or two that meet: the
    printed outline seen askew, where a fold or a bent sheet has moved the box off its place
    by more than its refinement puts right. A mark crosses the middle."""
    ys, xs = np.nonzero(part)
    xs, ys = xs + origin[0], ys + origin[1]
    fw, fh = frame
    band_x, band_y = BORDER_BAND * fw, BORDER_BAND * fh
    near = ((xs < band_x) | (xs >= fw - band_x) | (ys < band_y) | (ys >= fh - band_y))
    return float(np.mean(near)) >= BORDER_SHARE


def _streak(image: Image8, part: tuple[int, int, int, int], frame: tuple[int, int],
            side: tuple[float, float], threshold: int, thick: float = STREAK_THICK,
            continues: float = STREAK_CONTINUES) -> bool:
    """A thin line across the whole box that carries on beyond it on both sides: a scratch on the
    scanner glass or a dirty drum's streak, which runs the length of the page. A respondent's
    stroke stays near the box. `thick` (in sides) and `continues` (the share of the window beside
    the box the line must cross) are looser for a row of dots."""
    x, y, w, h = part
    fw, fh = frame
    sw, sh = side
    if w >= STREAK_SPAN * fw and h <= thick * sh:
        reach = round(STREAK_REACH * sw)
        left = image[y : y + h, max(0, x - reach) : max(0, x - round(0.2 * sw))]
        right = image[y : y + h, x + w + round(0.2 * sw) : x + w + reach]
        return (_lined(left < threshold, 0, continues)
                and _lined(right < threshold, 0, continues))
    if h >= STREAK_SPAN * fh and w <= thick * sw:
        reach = round(STREAK_REACH * sh)
        above = image[max(0, y - reach) : max(0, y - round(0.2 * sh)), x : x + w]
        below = image[y + h + round(0.2 * sh) : y + h + reach, x : x + w]
        return (_lined(above < threshold, 1, continues)
                and _lined(below < threshold, 1, continues))
    return False


def _lined(ink: NDArray[np.bool_], axis: int, share: float) -> bool:
    """Whether a line runs through this window along the axis (ink in `share` of its columns
    or rows)."""
    return bool(ink.size) and float(np.mean(ink.any(axis=axis))) >= share


def page_noise(inks: Sequence[BoxInk]) -> PageNoise:
    """The speck size and noise level of a page, from all its boxes.

    Most boxes of a page are not marked, so what is typical of them is noise: the largest piece of
    ink in the median box, and the pieces beside the largest in every box (a mark is the largest
    piece of its box; the rest is what the page's paper carries).
    """
    if not inks:
        return QUIET
    largest: list[int] = []
    rest: list[NDArray[np.int64]] = []
    levels: list[float] = []
    for ink in inks:
        sizes = ink.speck_sizes()
        largest.append(int(sizes[0]) if sizes.size else 0)
        rest.append(sizes[1:])
    others = np.concatenate(rest) if rest else np.zeros(0, dtype=np.int64)
    frame_area = float(np.median([max(1, ink.frame.size) for ink in inks]))
    typical = float(np.median(largest))
    upper = float(np.percentile(others, SPECK_PERCENTILE)) if others.size >= MIN_SPECKS else 0.0
    speck = max(MIN_SPECK * frame_area, typical, upper)
    speck = min(speck, MAX_SPECK * frame_area)
    for ink in inks:
        specks = ink.kept & (ink.areas <= speck)
        levels.append(float(ink.areas[specks].sum()) / max(1, ink.frame.size) + ink.streak)
    return PageNoise(int(speck), float(np.median(levels)),
                     float(np.median([ink.faint for ink in inks])))


def classify_box(ink: BoxInk, noise: PageNoise) -> BoxReading:
    """The box read with the page's specks and streaks left out."""
    ix0, iy0, ix1, iy1 = ink.inner
    speck_area = noise.speck_area
    # The speckle a box is read against: what is around it, and at least what the page's boxes
    # typically carry (a smudge on the box itself leaves nothing around it to compare).
    local = max(ink.local, noise.level if noise.level >= PAGE_NOISE else 0.0)
    if ink.local >= LOCAL_NOISE:
        # Pieces no larger than the speckle around the box are that speckle.
        speck_area = max(speck_area, round(LOCAL_SPECK_MARGIN * ink.local_speck))
    marks = ink.kept & (ink.areas > speck_area)
    if ix1 <= ix0 or iy1 <= iy0:
        return BoxReading("empty", 0.0, 0.0)
    if not marks.any() and local < LOCAL_NOISE:
        # Nothing that may be a mark: only light ink can keep the box from being surely empty.
        set_aside = float(np.mean(ink.frame[iy0:iy1, ix0:ix1]))
        faint = max(0.0, ink.faint - set_aside - max(ink.local_faint, noise.faint))
        return replace(classify_fill(0.0, 0.0, faint, 0.0, rim=0.0), surround=ink.surround)
    mark = marks[ink.labels] if marks.any() else np.zeros(ink.frame.shape, dtype=bool)
    inner = mark[iy0:iy1, ix0:ix1]
    if inner.size == 0:
        return BoxReading("empty", 0.0, 0.0)
    fill = float(np.mean(inner))
    margin = np.ones(mark.shape, dtype=bool)
    margin[iy0:iy1, ix0:ix1] = False
    rim = _rim(mark, margin)
    # Rows and columns inked across half the box are a printed line (an outline a little off its
    # layout position), not a stroke crossing the margin.
    margin[ink.frame.mean(axis=1) >= PRINTED_LINE, :] = False
    margin[:, ink.frame.mean(axis=0) >= PRINTED_LINE] = False
    edge = float(np.count_nonzero(mark & margin)) / max(1, int(np.count_nonzero(margin)))
    # Light ink counts the dark too: what was set aside as specks, streaks or outline is taken
    # out of it. Light ink is a pencil on a quiet page; in speckle it is the speckle's grey.
    set_aside = float(np.mean(ink.frame[iy0:iy1, ix0:ix1] & ~inner))
    # And light grey is a pencil only where it stands out from the grey the paper around the
    # box and the page's other boxes carry (a dirty roller's band, the back showing through).
    faint = max(0.0, ink.faint - set_aside - max(ink.local_faint, noise.faint))
    if local >= LOCAL_NOISE:
        faint = min(faint, fill + FAINT_MARK / 2)
    blob = _blob(ink, marks)
    reading = classify_fill(fill, _side_fill(inner), faint, edge, rim=rim,
                            blob=blob)
    # A box whose ink lies in many pieces is speckled itself, whatever is around it (a cluster
    # of toner on the box): it is read as a box in speckle.
    if local >= LOCAL_NOISE or int(np.count_nonzero(ink.kept)) >= SPECKLED_PIECES:
        reading = _through_noise(reading, ink, marks, fill, local)
    elif reading.confidence < STROKE_CONFIDENCE and fill >= STROKE_INNER \
            and (_has_stroke(ink, marks) or _pale_stroke(ink, marks)):
        # Little ink in the middle, but one long stroke right across the box: a thin tick
        # that runs past the box, which a person reads at a glance.
        reading = BoxReading("marked", fill, STROKE_CONFIDENCE, edge=reading.edge, stroke=True)
    if reading.state != "empty" and _toner(ink, marks):
        reading = replace(reading, confidence=min(reading.confidence, POROUS_CONFIDENCE),
                          noisy=True)
    if ink.askew and reading.state == "marked" and fill < ASKEW_FILL \
            and not _has_stroke(ink, marks):
        # On a folded or bent sheet what is left of the outline askew can pass for a light
        # mark: only a stroke across the box, or plenty of ink, is sure.
        reading = replace(reading, confidence=min(reading.confidence, 0.6))
    return replace(reading, surround=ink.surround, tone=_tone(ink, marks))


def reread_at_pen(ink: BoxInk, tone: float, pen: float, pen_marks_only: bool) -> BoxState | None:
    """A box left unsure in speckle, read again at the shade of the respondent's pen (their sure
    marks on the page, answers.pen_tone), as a person picks a tick out of a drum's toner on a
    grey scan: its state so read, at NOISY_CONFIDENCE, or None where it stays unsure. Ink as
    dark as the pen, in lines that run across the box, is their stroke, whatever toner lies on
    it. A box with next to no ink that dark, its own ink (`tone`) paler than the pen, holds only
    toner: but only where the question's sure marks are all the pen's (`pen_marks_only`), for
    toner solid enough to pass for a sure mark may stand beside it. On a bitonal scan toner is
    as black as any pen, and nothing is read again."""
    if pen < BLACK_PEN or ink.grey.shape != ink.frame.shape:
        return None
    dark = ink.grey < (pen + PEN_SHADE) * ink.threshold
    count, labels, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8),
                                                               connectivity=8)
    larger = np.zeros(count, dtype=bool)
    larger[1:] = stats[1:, cv2.CC_STAT_AREA] > MAX_SPECK * dark.size  # specks left out
    strokes = larger[labels]
    if _lines_across(strokes, strokes):
        return "marked"
    ix0, iy0, ix1, iy1 = ink.inner
    if pen_marks_only and tone >= pen + PEN_SHADE \
            and float(np.mean(dark[iy0:iy1, ix0:ix1])) < NO_PEN_INK:
        return "empty"
    return None


def stroke_runs_through(image: Image8, box: Box, scale: float, threshold: int) -> bool:
    """Whether a pen's line runs through the box and on out of it: a tick drawn off centre, its
    point on the outline or below it and its long arm up past the box, leaves only a short piece
    inside, which a person reads at once with the rest of the tick. The stroke's pieces either
    side of the printed outline are joined across it; the whole must be a thin line at least a
    box's side long, not level or upright (an underline, the edge of a fold), that ends near the
    box: a crease or a streak runs right across the paper around it."""
    x0, y0, x1, y1 = (v * scale for v in box)
    side = min(x1 - x0, y1 - y0)
    reach = RUN_OUT * side
    wx0, wy0 = max(0, round(x0 - reach)), max(0, round(y0 - reach))
    wx1 = min(image.shape[1], round(x1 + reach))
    wy1 = min(image.shape[0], round(y1 + reach))
    ink = image[wy0:wy1, wx0:wx1] < threshold
    line = max(1, round(OUTLINE * side))
    ox0, oy0, ox1, oy1 = round(x0) - wx0, round(y0) - wy0, round(x1) - wx0, round(y1) - wy0
    if min(ox0, oy0) < line or ox1 + line >= ink.shape[1] or oy1 + line >= ink.shape[0]:
        return False  # at the page's edge
    outline = _printed_outline(ink, (ox0, oy0, ox1, oy1), line)
    strokes = ink & ~outline
    inside = np.zeros(ink.shape, dtype=bool)
    inside[oy0 + line : oy1 - line, ox0 + line : ox1 - line] = True
    if int(np.count_nonzero(strokes & inside)) < RUN_INSIDE * side:
        return False
    # Where a stroke crosses the outline, the outline's pixels beside it join its pieces.
    near = cv2.dilate(strokes.astype(np.uint8), np.ones((2 * line + 1, 2 * line + 1), np.uint8))
    joined = strokes | (outline & (near > 0))
    _, labels = cv2.connectedComponents(joined.astype(np.uint8), connectivity=8)
    height, width = ink.shape
    for label in np.unique(labels[strokes & inside]):
        piece = strokes & (labels == label)
        if int(np.count_nonzero(piece & inside)) < RUN_INSIDE * side:
            continue
        ys, xs = np.nonzero(piece)
        if (xs.min() == 0 and xs.max() == width - 1) or (ys.min() == 0 and ys.max() == height - 1):
            continue  # right across the paper around the box
        length = max(int(np.ptp(xs)), int(np.ptp(ys))) + 1
        if length >= side and xs.size <= STROKE_THICK * side * length \
                and not _level_line(xs, ys):
            return True
    return False


def _printed_outline(ink: NDArray[np.bool_], outline: tuple[int, int, int, int],
                     play: int) -> NDArray[np.bool_]:
    """The printed outline's pixels: the rows and columns within `play` of each of its sides
    that are inked along most of that side."""
    x0, y0, x1, y1 = outline
    printed = np.zeros(ink.shape, dtype=bool)
    for edge in (y0, y1):
        rows = np.arange(edge - play, edge + play + 1)
        inked = rows[ink[rows, x0:x1].mean(axis=1) >= PRINTED_LINE]
        printed[inked, x0 - play : x1 + play] = ink[inked, x0 - play : x1 + play]
    for edge in (x0, x1):
        cols = np.arange(edge - play, edge + play + 1)
        inked = cols[ink[y0:y1, cols].mean(axis=0) >= PRINTED_LINE]
        printed[y0 - play : y1 + play, inked] = ink[y0 - play : y1 + play, inked]
    return printed


def _tone(ink: BoxInk, marks: NDArray[np.bool_]) -> float:
    """How dark the box's darkest ink is, over its pieces that may be a mark: toner that lands
    on a mark, or beside it, leaves the mark's own ink as dark as ever."""
    if not marks.any() or ink.grey.shape != ink.labels.shape:
        return 1.0
    inked = ink.grey[marks[ink.labels]]
    k = len(inked) * TONE_PERCENTILE // 100
    return float(np.partition(inked, k)[k]) / max(1, ink.threshold)


def _through_noise(reading: BoxReading, ink: BoxInk, marks: NDArray[np.bool_],
                   fill: float, local: float) -> BoxReading:
    """A box in speckle (a dirty drum's band, grime on the glass, a photocopy's toner) is read
    against the speckle just outside it, as a person sees a tick through the dirt: a pen's
    stroke larger than any speck around it is a mark; a box that holds no more ink than the
    speckle around it is empty; so is a box that holds a good deal more ink than the speckle
    around it, in solid strokes (a marker's cross) rather than a cloud of dots; anything else
    goes to a person."""
    if _has_stroke(ink, marks) or (fill - local >= NOISE_MARGIN and _solid(ink, marks)):
        state = "marked" if reading.state == "empty" else reading.state
        return replace(reading, state=state, confidence=NOISY_CONFIDENCE, noisy=True)
    if fill <= local + NOISE_MARGIN / 2 and reading.edge < STROKE_EDGE:
        # (A stroke across the box's margin may be a tick running through it.)
        return replace(reading, state="empty",
                       confidence=min(reading.confidence, NOISY_CONFIDENCE), noisy=True)
    return replace(reading, confidence=min(reading.confidence, 0.55), noisy=True)


def _solid(ink: BoxInk, marks: NDArray[np.bool_]) -> bool:
    """Whether the box's ink is solid, as a pen's or a marker's is, rather than a cloud of toner
    dots."""
    return bool(marks.any()) and _gaps(ink, marks) <= SOLID_GAPS


def _toner(ink: BoxInk, marks: NDArray[np.bool_]) -> bool:
    """Whether the box's ink may be a cluster of toner rather than a mark: porous, among other
    specks, and no pen's stroke at a slant once its gaps are closed (a pen running out of ink,
    or a dithered scan, breaks a stroke into pieces that still run across the box)."""
    pieces = int(np.count_nonzero(ink.kept))
    if pieces < POROUS_PIECES or not marks.any():
        return False
    mark = marks[ink.labels]
    closed = _closed(mark)
    gaps = _gap_share(mark, closed)
    if pieces >= TONER_PIECES:
        return gaps >= TONER_GAPS
    if gaps < POROUS_GAPS:
        return False
    count, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    # A drum's band of toner runs down the page: a stroke upright or level is not a pen's.
    return not _stroke_in(np.asarray(labels, dtype=np.int32),
                          stats[:, cv2.CC_STAT_AREA].astype(np.int64), np.arange(count) > 0,
                          closed.shape, slanted=True)


def _gaps(ink: BoxInk, marks: NDArray[np.bool_]) -> float:
    mark = marks[ink.labels]
    return _gap_share(mark, _closed(mark))


def _closed(ink: NDArray[np.bool_]) -> NDArray[np.uint8]:
    """The ink with the gaps between its pixels closed (a 3 x 3 closing)."""
    return np.asarray(cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_CLOSE,
                                       np.ones((3, 3), np.uint8)), dtype=np.uint8)


def _gap_share(ink: NDArray[np.bool_], closed: NDArray[np.uint8]) -> float:
    """The share that closing the gaps between the ink's pixels adds to it: a few per cent for a
    pen's line, more for a cloud of toner dots."""
    filled = int(np.count_nonzero(closed))
    return (filled - int(np.count_nonzero(ink))) / filled if filled else 0.0


def _has_stroke(ink: BoxInk, marks: NDArray[np.bool_]) -> bool:
    """A piece of ink that is a pen's stroke: most of the way across the box, and thin for its
    length (a cloud of toner is as thick as it is long). In a box askew on its outline a
    straight piece upright or level is not one."""
    return _stroke_in(ink.labels, ink.areas, marks, ink.frame.shape, ink.askew)


def _pale_stroke(ink: BoxInk, marks: NDArray[np.bool_]) -> bool:
    """A pale pen's stroke, darker than the ink threshold only along its core: taken at light
    grey's shade, its pieces through the dark ink are lines that together run across the box at
    a slant (a tick's point may lie on the outline, cutting it in two). Light grey alone is a
    pencil or the back of the sheet showing through, and a dirty roller's band runs level:
    neither is one."""
    if not marks.any() or ink.grey.shape != ink.frame.shape:
        return False
    light = ink.grey < faint_threshold(ink.threshold)
    dark = marks[ink.labels]
    if _lines_across(light, dark):
        return True
    # A band across the box (a roller's) joins the stroke's pieces into one smudge: without
    # its rows, or columns, the pieces are lines again.
    banded = light.copy()
    banded[light.mean(axis=1) >= PRINTED_LINE, :] = False
    banded[:, banded.mean(axis=0) >= PRINTED_LINE] = False
    return _lines_across(banded, dark)


def _lines_across(light: NDArray[np.bool_], dark: NDArray[np.bool_]) -> bool:
    """Whether the pieces of `light` through `dark` ink are all lines at a slant, together most
    of the way across the box."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(light.astype(np.uint8),
                                                           connectivity=8)
    through = np.unique(labels[dark & light])
    through = through[through > 0]
    side = min(light.shape)
    xs, ys = [], []
    for label in through:
        piece_ys, piece_xs = np.nonzero(labels == label)
        length = max(int(np.ptp(piece_xs)), int(np.ptp(piece_ys))) + 1
        if length < SPECK_EXTENT * side or stats[label, cv2.CC_STAT_AREA] > \
                STROKE_THICK * side * length or _level_line(piece_xs, piece_ys):
            return False  # a speck, a smudge or a band among them: not a pen's line
        xs.append(piece_xs)
        ys.append(piece_ys)
    if not xs:
        return False
    span = max(int(np.ptp(np.concatenate(xs))), int(np.ptp(np.concatenate(ys)))) + 1
    return bool(span >= STROKE_SPAN * side)


def _stroke_in(labels: NDArray[np.int32], areas: NDArray[np.int64], pieces: NDArray[np.bool_],
               frame: tuple[int, ...], slanted: bool) -> bool:
    fh, fw = frame[:2]
    side = min(fw, fh)
    for label in np.flatnonzero(pieces):
        ys, xs = np.nonzero(labels == label)
        length = max(int(xs.max() - xs.min()), int(ys.max() - ys.min())) + 1
        if length >= STROKE_SPAN * side and areas[label] <= STROKE_THICK * side * length \
                and not (slanted and _level_line(xs, ys)):
            return True
    return False


def _level_line(xs: NDArray[np.intp], ys: NDArray[np.intp]) -> bool:
    """A straight piece lying near level or upright: in a box askew on its outline, an edge of
    that outline; a pen's tick or cross runs across the box at a slant."""
    if xs.size < 3:
        return False
    cov = np.cov(np.vstack((xs, ys)).astype(np.float64))
    values, vectors = np.linalg.eigh(cov)
    if values[0] > LINE_ELONGATION * values[1]:
        return False  # not a line: a cross, a blob
    dx, dy = vectors[:, 1]
    angle = float(np.degrees(np.arctan2(abs(dy), abs(dx))))
    return min(angle, 90.0 - angle) <= LEVEL_DEGREES


def _rim(mark: NDArray[np.bool_], margin: NDArray[np.bool_]) -> float:
    """The least-inked side of the margin between the outline and the inner area: a box filled to
    its edges is dark on all four sides, a blob or dot leaves white around it."""
    h, w = mark.shape
    qh, qw = max(1, round(h * (INSET - OUTLINE))), max(1, round(w * (INSET - OUTLINE)))
    sides = (mark[:qh, :], mark[h - qh :, :], mark[:, :qw], mark[:, w - qw :])
    return min(float(np.mean(s)) if s.size else 0.0 for s in sides)


def _blob(ink: BoxInk, marks: NDArray[np.bool_]) -> bool:
    """One solid, round-ish piece of ink well inside the box, as people who know bubble forms
    mark an answer: a dot or a blob with white all round it."""
    labels = np.flatnonzero(marks)
    if labels.size != 1:
        return False
    part = ink.labels == labels[0]
    ys, xs = np.nonzero(part)
    fh, fw = part.shape
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
    if x0 == 0 or y0 == 0 or x1 == fw or y1 == fh:
        return False  # it reaches the outline: a stroke or a filled box, not a dot
    w, h = x1 - x0, y1 - y0
    if max(w, h) > BLOB_ASPECT * min(w, h) or min(w, h) < DOT_SIDE * min(fw, fh):
        return False
    return float(ink.areas[labels[0]]) >= BLOB_SOLID * w * h


def _side_fill(ink: NDArray[np.bool_]) -> float:
    """The least-inked of the four patches at the middle of each side of the inner area: between
    the arms of a cross, white even when a thick marker drew it; dark in a box filled in."""
    h, w = ink.shape
    qh, qw = max(1, h // 5), max(1, w // 5)
    cy, cx = h // 2, w // 2
    patches = (ink[:qh, cx - qw : cx + qw], ink[h - qh :, cx - qw : cx + qw],
               ink[cy - qh : cy + qh, :qw], ink[cy - qh : cy + qh, w - qw :])
    return min(float(np.mean(p)) if p.size else 1.0 for p in patches)


def _surround(image: Image8, box: tuple[float, float, float, float], threshold: int) -> float:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    near_x, far_x, near_y, far_y = SURROUND_NEAR * w, SURROUND_FAR * w, SURROUND_NEAR * h, \
        SURROUND_FAR * h
    bands = (
        image[round(y0 - far_y) : round(y0 - near_y), round(x0 - near_x) : round(x1 + near_x)],
        image[round(y1 + near_y) : round(y1 + far_y), round(x0 - near_x) : round(x1 + near_x)],
        image[round(y0) : round(y1), round(x0 - far_x) : round(x0 - near_x)],
    )
    if min(b.size for b in bands) == 0 or min(round(y0 - far_y), round(x0 - far_x)) < 0:
        return 0.0
    # A ring leaves ink on every side; a printed arrow or a neighbour's stroke only on one or two.
    # And a pen's line is solid: a side whose ink is porous holds a cloud of toner, not a ring.
    above, below, left = (band < threshold for band in bands)
    return min(_ring_ink(above, along=0), _ring_ink(below, along=0), _ring_ink(left, along=1))


def _ring_ink(ink: NDArray[np.bool_], along: int) -> float:
    """The share of one band beside a box inked as a ring would ink it: none when its ink is
    porous, or does not run along the box's side as a ring's line does (along axis `along` of
    the band: 0 above and below the box, 1 to its left); a dirty roller's line crosses the band
    on its way down the page. Bare paper, most bands of most pages, needs no closing."""
    inked = int(np.count_nonzero(ink))
    if inked == 0 or float(np.mean(ink.any(axis=along))) < RING_SPAN \
            or _gap_share(ink, _closed(ink)) >= RING_GAPS:
        return 0.0
    return inked / ink.size


def classify_fill(fill: float, side_fill: float = 1.0, faint: float = 0.0,
                  edge: float = 0.0, rim: float = 1.0, blob: bool = False) -> BoxReading:
    """State and confidence: confidence falls to 0.5 at each boundary between states.

    `side_fill` tells a fat cross (sides of the box left white) from a box filled in to cancel
    it; `faint` (light grey ink, a pencil) and `edge` (a stroke across the box's margin) keep a
    box with little dark ink from being read as surely empty. `rim` (the least-inked side of the
    margin inside the outline) and `blob` (one solid dot or blob with white all round it) tell a
    mark made the way bubble forms teach from a box filled to its edges, which alone cancels.
    """
    if blob and fill >= DOT_FILL:
        return BoxReading("marked", fill, 1.0 if fill >= SURE_DOT else 0.6, edge=edge)
    if fill >= CANCELLED_AT - 0.12 and (side_fill < EVEN_FILL or rim < FILLED_RIM):
        return BoxReading("marked", fill, 1.0, edge=edge)
    if STROKE_FILL <= fill < UNSURE_BAND[1] and edge >= STROKE_EDGE:
        return BoxReading("marked", fill, 1.0, edge=edge)
    reading = _classify_dark(fill)
    if reading.state == "empty" and edge >= EDGE_INK:
        return replace(reading, confidence=min(reading.confidence, 0.6), edge=edge)
    if reading.state == "empty" and faint >= FAINT_MARK:
        return replace(reading, confidence=min(reading.confidence, 0.6), faint=True, edge=edge)
    return replace(reading, edge=edge)


def _classify_dark(fill: float) -> BoxReading:
    low, high = UNSURE_BAND
    near_cancelled = CANCELLED_AT - 0.12
    if fill >= CANCELLED_AT:
        return BoxReading("cancelled", fill, min(1.0, 0.5 + (fill - CANCELLED_AT) / 0.2))
    if fill >= MARKED_AT:
        if fill < high:
            confidence = 0.5 + 0.5 * (fill - MARKED_AT) / (high - MARKED_AT)
        elif fill > near_cancelled:
            confidence = 0.5 + 0.5 * (CANCELLED_AT - fill) / 0.12
        else:
            confidence = 1.0
        return BoxReading("marked", fill, confidence)
    confidence = 1.0 if fill <= low else 0.5 + 0.5 * (MARKED_AT - fill) / (MARKED_AT - low)
    return BoxReading("empty", fill, confidence)
