"""Values a simulated respondent writes that fit the question: a real-looking postcode in a
postcode's cells, an age an adult gives, numbers within the constraint's bounds and the cells
printed for them, dates in the past (a date of birth an adult's), times on a 24-hour clock.

Every value is drawn from the generator it is given, so a seed gives the same returns; the
"past" is before a fixed day, not today, for the same reason.
"""

from __future__ import annotations

import datetime
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np

from pipeline import postcode
from pipeline.forms.constraint import Bounds, read_constraint
from pipeline.model import Question

# Outward codes of real places (Wales first, where the Welsh forms go, then across the UK), of
# every shape: A9, A99, AA9, AA99, A9A, AA9A.
OUTWARD_CODES = ("CF10", "CF24", "CF5", "SA1", "SA31", "LL57", "LL11", "NP20", "SY23", "LD1",
                 "M1", "M14", "B33", "L8", "S10", "G12", "EH3", "SW1A", "W1A", "EC1A", "N1",
                 "E17", "BS8", "LS6", "CR2", "DN55", "NE1", "OX4", "CB2", "PL4", "YO10", "BT7")
LAST_DAY = datetime.date(2026, 6, 30)  # the simulated returns' "today": every date before it
RECENT_DAYS = 730  # a date asked about (a visit, today's date) falls in the two years before
ADULT_AGES = (18, 90)
AGE_WORDS = re.compile(r"(^|[\W_])(age|age_years|how old|oed)([\W_]|$)", re.IGNORECASE)
BIRTH_WORDS = re.compile(r"birth|(^|[\W_])dob([\W_]|$)|geni", re.IGNORECASE)
UNBOUNDED_HIGH = 99  # a number with no upper bound: a small count or amount
WORDS = ("YES", "NONE", "BLUE", "SMITH", "JONES", "CAR", "BUS", "OWEN", "ANNA", "TOM")


def postcode_value(rng: np.random.Generator) -> str:
    """A real outward code and an inward code of the right letters: `CF24 3AA`."""
    outward = OUTWARD_CODES[int(rng.integers(len(OUTWARD_CODES)))]
    letters = postcode.UNIT
    return (f"{outward} {int(rng.integers(0, 10))}"
            f"{letters[int(rng.integers(len(letters)))]}{letters[int(rng.integers(len(letters)))]}")


def asks(question: Question, words: re.Pattern[str]) -> bool:
    """Whether the question's name or its label, in any language, matches `words` (AGE_WORDS,
    BIRTH_WORDS)."""
    return bool(words.search(question.name)) or any(
        words.search(text) for _, text in question.label.texts)


def integer_value(question: Question, rng: np.random.Generator) -> str:
    """A whole number within the constraint's bounds and the digits printed; an adult's age for
    a question about age."""
    low, high = _range(question, 0)
    if asks(question, AGE_WORDS):
        low, high = max(low, Decimal(ADULT_AGES[0])), min(high, Decimal(ADULT_AGES[1]))
        if low > high:  # bounds that leave out adults (a child's age): theirs
            low, high = _range(question, 0)
    return str(int(rng.integers(int(low), int(high) + 1)))


def decimal_value(question: Question, rng: np.random.Generator) -> str:
    """A number with the question's decimal places, within its bounds and its cells."""
    places = question.decimals
    low, high = _range(question, places)
    unit = Decimal(1).scaleb(-places)
    steps = int((high - low) / unit)
    value = low + unit * int(rng.integers(0, steps + 1))
    return f"{value:.{places}f}"


def _range(question: Question, places: int) -> tuple[Decimal, Decimal]:
    """The lowest and highest value to write, `places` after the point: within the bounds
    (exclusive ones a step inside), never negative, no more digits than the cells hold."""
    unit = Decimal(1).scaleb(-places)
    bounds: Bounds = read_constraint(question.constraint, question.name).bounds
    whole_cells = max((question.cells or 6) - places, 1)
    most = Decimal(10) ** whole_cells - unit
    high = min(most, Decimal(UNBOUNDED_HIGH)) if bounds.high is None else min(bounds.high, most)
    if bounds.high is not None and not bounds.high_inclusive and high == bounds.high:
        high -= unit
    low = Decimal(0) if bounds.low is None else max(bounds.low, Decimal(0))
    if bounds.low is not None and not bounds.low_inclusive and low == bounds.low:
        low += unit
    low = low.quantize(unit, rounding=ROUND_CEILING)
    high = high.quantize(unit, rounding=ROUND_FLOOR)
    return (low, high) if low <= high else (high, high)


def date_value(question: Question, rng: np.random.Generator) -> str:
    """A day in the two years before LAST_DAY; for a date of birth, an adult's."""
    if asks(question, BIRTH_WORDS):
        age_days = int(rng.integers(ADULT_AGES[0] * 365 + 5, ADULT_AGES[1] * 365))
        return (LAST_DAY - datetime.timedelta(days=age_days)).isoformat()
    return (LAST_DAY - datetime.timedelta(days=int(rng.integers(0, RECENT_DAYS)))).isoformat()


def time_value(rng: np.random.Generator) -> str:
    """A time on a 24-hour clock, HH:MM."""
    return f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}"


def cells_text_value(question: Question, rng: np.random.Generator) -> str:
    """What fits a comb that is no number, date or postcode: digits, or a word in capitals."""
    count = question.cells
    if question.charset == "digits":
        return "".join(str(int(rng.integers(0, 10))) for _ in range(int(rng.integers(1,
                                                                                      count + 1))))
    fitting = [word for word in WORDS if len(word) <= count] or ["A" * count]
    return fitting[int(rng.integers(len(fitting)))]
