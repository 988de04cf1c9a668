"""Registration: find the four corner marks, turn the page upright, map layout points to pixels."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.records import PageLayout

Image8 = NDArray[np.uint8]
Point = tuple[float, float]

A4_SHORT_SIDE_MM = 210.0
A4_LONG_SIDE_MM = 297.0
MARK_SIDE_MM = 6.0
MARK_INSET_MM = 9.0  # layout.MARK_INSET: a mark's outer corner from the sheet's edges
RING_HOLE = 0.4  # render._draw_mark: a ring's hole, as a share of its side
INK_OF_PAPER = 0.62  # ink is darker than this share of the paper's brightness
SEARCH_SHORT_SIDE = 800  # pixels across the page's short side when searching for marks
CORNER_WINDOW = 0.33  # share of width and height searched for a mark at each corner
# Finding the marks by their printed shape, when the first dark squares do not make a page:
SHAPE_WINDOW = 0.22  # share of width and height searched at each corner
MARK_MARGIN_MM = 1.2  # white printed around a mark, part of the shape matched
MARK_MATCH = 0.45  # least correlation of a candidate with a printed mark (-1..1)
MARK_CANDIDATES = 5  # best candidates kept per corner
MAX_FIT_MM = 2.5  # marks further than this from the printed rectangle are not the marks
SCALE_RANGE = (0.7, 1.15)  # the marks against A4 at the scan's resolution: a fit-to-page scan
# shrinks them, and a skewed sheet scanned whole widens the image around them (8 degrees: 0.84)


@dataclass(frozen=True)
class CornerMarks:
    """Mark centres in pixels, top-left, top-right, bottom-left, bottom-right; None where a corner
    has no mark (torn off, or covered)."""

    centres: tuple[Point | None, Point | None, Point | None, Point | None]
    solid: tuple[bool, bool, bool, bool]

    @property
    def found(self) -> int:
        """How many of the four corner marks were found."""
        return sum(c is not None for c in self.centres)


@dataclass(frozen=True)
class Registration:
    upright: Image8  # the page turned so the solid mark is top-left
    rotation: int  # degrees clockwise the scan was turned to make it upright
    marks: CornerMarks


@dataclass(frozen=True)
class Aligned:
    """The page resampled into the layout's own frame: pixel = point * scale."""

    image: Image8
    scale: float
    quality: float  # 1 perfect; falls as the marks disagree with the layout's rectangle
    residual_pt: float
    marks_used: int


# Corner index of the solid mark -> quarter turns (np.rot90 turns anticlockwise) to fix it.
TURNS = {0: 0, 1: 1, 3: 2, 2: 3}
SOLID_CORNER = {turns: corner for corner, turns in TURNS.items()}


def ink_threshold(gray: Image8) -> int:
    """A threshold between paper and ink, taken from this page rather than fixed."""
    paper = float(np.percentile(gray[:: 8, :: 8], 90))
    return int(max(60.0, paper * INK_OF_PAPER))


def find_corner_marks(gray: Image8) -> CornerMarks:
    """The mark nearest each image corner, where there is one.

    Searched on a reduced copy (about 100 dpi is plenty for a 6 mm mark); the centres, taken
    from the marks' moments, keep sub-pixel accuracy when scaled back.
    """
    factor = max(1, min(gray.shape) // SEARCH_SHORT_SIDE)
    if factor == 1:
        return _find_corner_marks(gray)
    found = _find_corner_marks(np.ascontiguousarray(gray[::factor, ::factor]))
    scaled = tuple(None if c is None else (c[0] * factor, c[1] * factor)
                   for c in found.centres)
    return CornerMarks((scaled[0], scaled[1], scaled[2], scaled[3]), found.solid)


def _find_corner_marks(gray: Image8) -> CornerMarks:
    height, width = gray.shape
    px_per_mm = min(height, width) / A4_SHORT_SIDE_MM
    expected = MARK_SIDE_MM * px_per_mm
    ink = (gray < ink_threshold(gray)).astype(np.uint8)
    win_w, win_h = int(width * CORNER_WINDOW), int(height * CORNER_WINDOW)
    corners = ((0, 0), (width - win_w, 0), (0, height - win_h), (width - win_w, height - win_h))
    image_corners = ((0, 0), (width, 0), (0, height), (width, height))
    centres: list[Point | None] = []
    solid: list[bool] = []
    for (ox, oy), (cx, cy) in zip(corners, image_corners, strict=True):
        window = ink[oy : oy + win_h, ox : ox + win_w]
        found = _best_mark(window, expected, (cx - ox, cy - oy))
        if found is None:
            centres.append(None)
            solid.append(False)
            continue
        (mx, my), is_solid = found
        centres.append((mx + ox, my + oy))
        solid.append(is_solid)
    return CornerMarks(
        (centres[0], centres[1], centres[2], centres[3]),
        (solid[0], solid[1], solid[2], solid[3]),
    )


def register(gray: Image8, marks: CornerMarks | None = None) -> Registration | None:
    """Find the marks and turn the page so that the solid mark is at the top left.

    Three marks are enough (a torn or folded corner); if the solid one is the missing one, the
    empty corner says which way up the page is. None when fewer than three marks are found, or
    they do not say which way up the page is, or the turned page does not show them so.
    """
    marks = marks if marks is not None else find_corner_marks(gray)
    turns = _turns(marks)
    if turns is None:
        return None
    if turns == 0:
        return Registration(gray, 0, marks)
    upright = np.ascontiguousarray(np.rot90(gray, turns))
    again = find_corner_marks(upright)
    if again.found < 3 or any(again.solid[1:]) or (again.centres[0] is not None
                                                     and not again.solid[0]):
        return None
    return Registration(upright, 90 * turns, again)


def register_by_shape(gray: Image8, turns: int | None = None) -> Registration | None:
    """Registration from the marks found by their printed shape and the page's rectangle
    (find_marks_by_shape): for a page whose first dark squares are specks, streaks or blots.
    Slower than register, so only tried when that fails. `turns`, when the page code has
    said which way up the page is, places the solid mark whatever its ink looks like. None when
    the marks found do not say which way up the page is."""
    marks = find_marks_by_shape(gray, None if turns is None else SOLID_CORNER[turns % 4])
    turns = _turns(marks)
    if turns is None:
        return None
    if turns == 0:
        return Registration(gray, 0, marks)
    upright = np.ascontiguousarray(np.rot90(gray, turns))
    return Registration(upright, 90 * turns, turn_marks(marks, gray.shape[:2], turns))


def _turns(marks: CornerMarks) -> int | None:
    """Quarter turns (anticlockwise) that bring the solid mark, or the missing corner when only
    three rings were found, to the top left; None when the marks do not say."""
    if marks.found < 3:
        return None
    solid = [i for i in range(4) if marks.centres[i] is not None and marks.solid[i]]
    if len(solid) > 1:
        return None
    if solid:
        return TURNS[solid[0]]
    missing = [i for i in range(4) if marks.centres[i] is None]
    if len(missing) != 1:
        return None
    return TURNS[missing[0]]


def turn_marks(marks: CornerMarks, shape: tuple[int, int], turns: int) -> CornerMarks:
    """The marks of an image of `shape` (height, width) as they lie once the image is turned
    by np.rot90(image, turns), sorted into the corners of the turned image."""
    height, width = shape
    points: list[tuple[Point, bool]] = []
    for centre, solid in zip(marks.centres, marks.solid, strict=True):
        if centre is None:
            continue
        x, y = centre
        h, w = height, width
        for _ in range(turns % 4):
            x, y = y, w - 1 - x
            h, w = w, h
        points.append(((x, y), solid))
    h, w = (height, width) if turns % 2 == 0 else (width, height)
    centres: list[Point | None] = [None] * 4
    solids = [False] * 4
    for (x, y), solid in points:
        corner = (2 if y > h / 2 else 0) + (1 if x > w / 2 else 0)
        centres[corner] = (x, y)
        solids[corner] = solid
    return CornerMarks((centres[0], centres[1], centres[2], centres[3]),
                       (solids[0], solids[1], solids[2], solids[3]))


def fits_rectangle(marks: CornerMarks, shape: tuple[int, int]) -> bool:
    """Whether the marks found lie where the printed marks do, relative to one another: the
    corners of the page's rectangle of marks, at about the scan's resolution."""
    present = [i for i in range(4) if marks.centres[i] is not None]
    if len(present) < 3:
        return False
    found = np.array([marks.centres[i] for i in present], dtype=np.float64)
    residual, scale = _rectangle_fit(found, present, shape)
    return residual <= MAX_FIT_MM and SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]


def _rectangle_fit(found: NDArray[np.float64], corners: list[int],
                   shape: tuple[int, int]) -> tuple[float, float]:
    """How far (mm) the points are from the printed rectangle of marks at `corners`, and their
    scale against A4 at the image's resolution (1: the page fills the scan)."""
    height, width = shape
    inner = MARK_INSET_MM + MARK_SIDE_MM / 2
    across, down = A4_SHORT_SIDE_MM - inner, A4_LONG_SIDE_MM - inner
    if width > height:  # turned a quarter: the page's long side runs across the image
        across, down = down, across
    rectangle = ((inner, inner), (across, inner), (inner, down), (across, down))
    printed = np.array([rectangle[i] for i in corners], dtype=np.float64)
    z = printed[:, 0] + 1j * printed[:, 1]
    w = found[:, 0] + 1j * found[:, 1]
    zc, wc = z - z.mean(), w - w.mean()
    a = complex(np.sum(np.conj(zc) * wc) / np.sum(np.abs(zc) ** 2))
    if abs(a) == 0:
        return float("inf"), 0.0
    b = w.mean() - a * z.mean()
    residual = float(np.sqrt(np.mean(np.abs(a * z + b - w) ** 2)) / abs(a))
    return residual, abs(a) / (min(height, width) / A4_SHORT_SIDE_MM)


@dataclass(frozen=True)
class _Candidate:
    centre: Point
    solid: bool
    score: float  # correlation with the printed mark


def find_marks_by_shape(gray: Image8, solid_corner: int | None = None) -> CornerMarks:
    """The corner marks as printed: squares, solid or ringed, with paper around them, matched by
    correlation rather than taken as the first dark blob; and chosen together, the set of
    candidates that makes the page's rectangle of marks. Specks, a streak across a mark or faint
    toner do not outvote them. Candidates are found on a reduced copy, the chosen ones placed at
    full resolution. With `solid_corner` known (from the page code), that corner's mark is the
    solid one, whatever a streak or faint toner made it look like."""
    factor = max(1, min(gray.shape) // SEARCH_SHORT_SIDE)
    small = gray if factor == 1 else np.asarray(
        cv2.resize(gray, (gray.shape[1] // factor, gray.shape[0] // factor),
                   interpolation=cv2.INTER_AREA), dtype=np.uint8)
    small = np.asarray(cv2.medianBlur(small, 3), dtype=np.uint8)
    chosen = _rectangle_of_marks(_shape_candidates(small), small.shape[:2], solid_corner)
    centres: list[Point | None] = []
    solids: list[bool] = []
    px_per_mm = min(gray.shape) / A4_SHORT_SIDE_MM
    for corner, candidate in enumerate(chosen):
        if candidate is None:
            centres.append(None)
            solids.append(False)
            continue
        x, y = candidate.centre
        guess = (x * factor + (factor - 1) / 2, y * factor + (factor - 1) / 2)
        centres.append(_refine_centre(gray, guess, candidate.solid, px_per_mm, factor + 2))
        solids.append(candidate.solid if solid_corner is None else corner == solid_corner)
    return CornerMarks((centres[0], centres[1], centres[2], centres[3]),
                       (solids[0], solids[1], solids[2], solids[3]))


def _mark_template(px_per_mm: float, solid: bool) -> NDArray[np.float32]:
    """A printed mark with the paper around it, drawn at four times the size and reduced, so
    that its edges fall between pixels as a scan's do."""
    over = 4
    side = MARK_SIDE_MM * px_per_mm * over
    size = round((MARK_SIDE_MM + 2 * MARK_MARGIN_MM) * px_per_mm) * over
    image = np.full((size, size), 255, dtype=np.uint8)
    centre = size / 2
    x0, x1 = round(centre - side / 2), round(centre + side / 2)
    image[x0:x1, x0:x1] = 0
    if not solid:
        hole = side * RING_HOLE
        h0, h1 = round(centre - hole / 2), round(centre + hole / 2)
        image[h0:h1, h0:h1] = 255
    small = cv2.resize(image, (size // over, size // over), interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.float32)


def _shape_candidates(small: Image8) -> list[list[_Candidate]]:
    """The best few mark-like places at each corner, best first."""
    height, width = small.shape
    px_per_mm = min(height, width) / A4_SHORT_SIDE_MM
    solid_t, ring_t = _mark_template(px_per_mm, True), _mark_template(px_per_mm, False)
    half = (solid_t.shape[0] - 1) / 2
    win_w, win_h = int(width * SHAPE_WINDOW), int(height * SHAPE_WINDOW)
    origins = ((0, 0), (width - win_w, 0), (0, height - win_h), (width - win_w, height - win_h))
    found: list[list[_Candidate]] = []
    for ox, oy in origins:
        window = small[oy : oy + win_h, ox : ox + win_w].astype(np.float32)
        if min(window.shape) <= solid_t.shape[0]:
            found.append([])
            continue
        solid = _correlation(window, solid_t)
        ring = _correlation(window, ring_t)
        best = np.maximum(solid, ring)
        corner: list[_Candidate] = []
        for px, py, score in _peaks(best, MARK_CANDIDATES, MARK_MATCH, int(half)):
            corner.append(_Candidate((ox + px + half, oy + py + half),
                                     bool(solid[py, px] > ring[py, px]), score))
        found.append(corner)
    return found


def _correlation(window: NDArray[np.float32], template: NDArray[np.float32]) -> NDArray[np.float32]:
    """Normalised correlation; 0 where the window is flat (plain paper says nothing)."""
    score = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
    return np.asarray(np.clip(np.nan_to_num(score, nan=0.0, posinf=0.0, neginf=0.0), -1, 1),
                      dtype=np.float32)


def _peaks(score: NDArray[np.float32], count: int, least: float,
           radius: int) -> list[tuple[int, int, float]]:
    """Up to `count` local maxima at least `least`, each `radius` clear of a better one."""
    score = score.copy()
    found: list[tuple[int, int, float]] = []
    for _ in range(count):
        _, value, _, (x, y) = cv2.minMaxLoc(score)
        if value < least:
            break
        found.append((int(x), int(y), float(value)))
        score[max(0, y - radius) : y + radius + 1, max(0, x - radius) : x + radius + 1] = -1.0
    return found


def _rectangle_of_marks(candidates: list[list[_Candidate]], shape: tuple[int, int],
                        solid_corner: int | None = None) -> tuple[_Candidate | None, ...]:
    """One candidate or none per corner: the set, of three or four, that best makes the
    printed rectangle with at most one solid mark (or, with `solid_corner` known, whatever
    the marks look like), by correlation less misfit."""
    best: tuple[float, tuple[_Candidate | None, ...]] | None = None
    options = [[*corner, None] for corner in candidates]
    for combo in itertools.product(*options):
        present = [i for i in range(4) if combo[i] is not None]
        if len(present) < 3:
            continue
        marks = [c for c in combo if c is not None]
        solids = sum(c.solid for c in marks)
        if solid_corner is None and (solids > 1 or (solids == 0 and len(present) == 4)):
            continue
        found = np.array([c.centre for c in marks], dtype=np.float64)
        residual, scale = _rectangle_fit(found, present, shape)
        if residual > MAX_FIT_MM or not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
            continue
        score = sum(c.score for c in marks) - 0.2 * residual
        if best is None or score > best[0]:
            best = (score, combo)
    return (None, None, None, None) if best is None else best[1]


def _refine_centre(gray: Image8, guess: Point, solid: bool, px_per_mm: float,
                   slack: int) -> Point:
    """The mark's centre at full resolution: the best correlation within `slack` pixels of the
    guess, to a fraction of a pixel (a parabola through the peak and its neighbours)."""
    template = _mark_template(px_per_mm, solid)
    half = (template.shape[0] - 1) / 2
    x0 = round(guess[0] - half) - slack
    y0 = round(guess[1] - half) - slack
    size = template.shape[0] + 2 * slack
    height, width = gray.shape
    if x0 < 0 or y0 < 0 or x0 + size > width or y0 + size > height:
        return guess
    window = gray[y0 : y0 + size, x0 : x0 + size].astype(np.float32)
    score = _correlation(window, template)
    _, _, _, (px, py) = cv2.minMaxLoc(score)
    dx = _vertex(score[py, px - 1 : px + 2]) if 0 < px < score.shape[1] - 1 else 0.0
    dy = _vertex(score[py - 1 : py + 2, px]) if 0 < py < score.shape[0] - 1 else 0.0
    return (x0 + px + dx + half, y0 + py + dy + half)


def _vertex(values: NDArray[np.float32]) -> float:
    """Offset (-0.5..0.5) of a parabola's peak through three equally spaced values."""
    left, centre, right = (float(v) for v in values)
    curve = left - 2 * centre + right
    if curve >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / curve, -0.5, 0.5))


def align(registration: Registration, page: PageLayout, scale: float,
          page_size: tuple[float, float]) -> Aligned:
    """Resample the upright scan into layout coordinates: a homography from four marks, an
    affine transform from three."""
    pairs = [(found, mark.centre) for found, mark in zip(registration.marks.centres, page.marks,
                                                         strict=True) if found is not None]
    found = np.array([f for f, _ in pairs], dtype=np.float64)
    layout_pts = np.array([m for _, m in pairs], dtype=np.float64)
    size = (round(page_size[0] * scale), round(page_size[1] * scale))
    target = (layout_pts * scale).astype(np.float32)
    # A 1-bit scan has nothing between black and white to interpolate: nearest is exact there,
    # and two to three times faster.
    flags = cv2.INTER_NEAREST if _is_bitonal(registration.upright) else cv2.INTER_LINEAR
    if len(pairs) == 4:
        matrix = cv2.getPerspectiveTransform(found.astype(np.float32), target)
        image = cv2.warpPerspective(registration.upright, matrix, size, flags=flags,
                                    borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    else:
        matrix = cv2.getAffineTransform(found[:3].astype(np.float32), target[:3])
        image = cv2.warpAffine(registration.upright, matrix, size, flags=flags,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    residual = _similarity_residual(found, layout_pts)
    quality = float(max(0.0, 1.0 - residual / 6.0)) * (1.0 if len(pairs) == 4 else 0.8)
    return Aligned(np.asarray(image, dtype=np.uint8), scale, quality, residual, len(pairs))


def _is_bitonal(gray: Image8) -> bool:
    sample = gray[::16, ::16]
    return not bool(np.any((sample > 0) & (sample < 255)))


def _best_mark(ink: Image8, expected: float, corner: Point) -> tuple[Point, bool] | None:
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    widths, heights = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    sized = ((widths >= 0.6 * expected) & (widths <= 1.6 * expected)
             & (heights >= 0.6 * expected) & (heights <= 1.6 * expected)
             & (widths <= 1.4 * heights) & (heights <= 1.4 * widths))
    sized[0] = False  # the background
    best: tuple[float, Point, bool] | None = None
    for label in np.flatnonzero(sized):
        x, y, w, h, area = (int(v) for v in stats[label])
        component = (labels[y : y + h, x : x + w] == label).astype(np.uint8)
        contours, _ = cv2.findContours(component, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        outer = max(contours, key=cv2.contourArea)
        outer_area = cv2.contourArea(outer)
        if outer_area < 0.4 * expected * expected:
            continue
        hull_area = cv2.contourArea(cv2.convexHull(outer))
        if hull_area <= 0 or outer_area / hull_area < 0.85:  # a square, not a blot or a letter
            continue
        moments = cv2.moments(outer)
        cx, cy = moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]
        filled = area / outer_area
        if filled < 0.6:
            continue
        core = max(1, int(min(w, h) * 0.12))
        ix, iy = int(cx), int(cy)
        centre_ink = component[max(0, iy - core) : iy + core + 1, max(0, ix - core) : ix + core + 1]
        is_solid = bool(centre_ink.size and centre_ink.mean() > 0.5)
        centre = (x + cx, y + cy)
        distance = float(np.hypot(centre[0] - corner[0], centre[1] - corner[1]))
        if best is None or distance < best[0]:
            best = (distance, centre, is_solid)
    return None if best is None else (best[1], best[2])


def _similarity_residual(found: NDArray[np.float64], layout_pts: NDArray[np.float64]) -> float:
    """RMS distance, in points, between the marks and the best similarity fit of the layout.

    Least squares in complex numbers: found ~ a * layout + b, with a the scale and rotation.
    """
    z = layout_pts[:, 0] + 1j * layout_pts[:, 1]
    w = found[:, 0] + 1j * found[:, 1]
    zc, wc = z - z.mean(), w - w.mean()
    a = complex(np.sum(np.conj(zc) * wc) / np.sum(np.abs(zc) ** 2))
    if abs(a) == 0:
        return float("inf")
    b = w.mean() - a * z.mean()
    return float(np.sqrt(np.mean(np.abs(a * z + b - w) ** 2)) / abs(a))


L_ARM_MM = (10.0, 32.0)  # the arms of an L-shaped corner mark (queXF prints them 19 mm long)
L_WINDOW = 0.2  # share of width and height searched for an L at each corner


def find_corner_angles(gray: Image8) -> CornerMarks:
    """The inner corners of L-shaped marks (as queXF prints them), at full resolution.

    Each corner's window is mirrored so its L opens towards the bottom right; the inner edge of
    each arm is fitted as a line, and the two lines meet at the registration point.
    """
    height, width = gray.shape
    px_per_mm = min(height, width) / A4_SHORT_SIDE_MM
    threshold = ink_threshold(gray)
    win_w, win_h = int(width * L_WINDOW), int(height * L_WINDOW)
    centres: list[Point | None] = []
    for flip_x, flip_y in ((False, False), (True, False), (False, True), (True, True)):
        x0 = width - win_w if flip_x else 0
        y0 = height - win_h if flip_y else 0
        window = gray[y0 : y0 + win_h, x0 : x0 + win_w]
        if flip_x:
            window = window[:, ::-1]
        if flip_y:
            window = window[::-1, :]
        ink = np.ascontiguousarray(window < threshold).astype(np.uint8)
        vertex = _inner_corner(ink, px_per_mm)
        if vertex is None:
            centres.append(None)
            continue
        vx, vy = vertex
        centres.append((x0 + (win_w - vx if flip_x else vx), y0 + (win_h - vy if flip_y else vy)))
    return CornerMarks((centres[0], centres[1], centres[2], centres[3]),
                       (False, False, False, False))


def _inner_corner(ink: Image8, px_per_mm: float) -> Point | None:
    """The inner corner of the L nearest the window's top-left, as an L opening right and down."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    low, high = L_ARM_MM[0] * px_per_mm, L_ARM_MM[1] * px_per_mm
    best: tuple[float, Point] | None = None
    for label in range(1, len(stats)):
        x, y, w, h, area = (int(v) for v in stats[label])
        if not (low <= w <= high and low <= h <= high) or area > 0.3 * w * h:
            continue
        part = labels[y : y + h, x : x + w] == label
        thickness = area / (w + h)
        # Both arms run along the L's outer edges: ink along the whole top and the whole left.
        edge = max(2, int(3 * thickness))
        if part[:edge, :].any(axis=0).mean() < 0.85 or part[:, :edge].any(axis=1).mean() < 0.85:
            continue
        vertical = _inner_edge(part, thickness)
        horizontal = _inner_edge(part.T, thickness)
        if vertical is None or horizontal is None:
            continue
        # x = a*y + b (the vertical arm's inner edge), y = c*x + d (the horizontal arm's).
        a, b = vertical
        c, d = horizontal
        vy = (c * b + d) / (1.0 - a * c)
        vx = a * vy + b
        distance = float(np.hypot(x + vx, y + vy))
        if best is None or distance < best[0]:
            best = (distance, (x + vx, y + vy))
    return None if best is None else best[1]


def _inner_edge(part: NDArray[np.bool_], thickness: float) -> tuple[float, float] | None:
    """The inner edge of the arm along the left of `part`: x = a*y + b, fitted over the rows
    clear of the other arm, in continuous pixel coordinates."""
    height = part.shape[0]
    start = int(3 * thickness) + 2
    rows = np.arange(start, height)
    if rows.size < 5:
        return None
    band = part[start:, : max(3, int(4 * thickness))]
    has_ink = band.any(axis=1)
    if has_ink.mean() < 0.7:
        return None
    # The rightmost ink pixel of each row, plus one: where the arm's ink ends.
    last = band.shape[1] - np.argmax(band[:, ::-1], axis=1)
    ys, xs = rows[has_ink] + 0.5, last[has_ink].astype(np.float64)
    a, b = np.polyfit(ys, xs, 1)
    residual = np.abs(xs - (a * ys + b))
    keep = residual <= max(1.5, float(np.percentile(residual, 80)))
    a, b = np.polyfit(ys[keep], xs[keep], 1)
    return float(a), float(b)
