"""Tracking a mailing: how many copies went out in each variant, how many came back, on which
channel, in which week and to which postcode district (docs/tracking.md).

Pure: it takes the register of forms, the paper returns, the online responses, the responses on
the other channels (keyed, phoned, letters) and the mailing list's contacts, and returns the
tables; report.py reads them from the store and writes them out.
A copy is one printed serial of one form key; a response is one row of the dataset. No table
names a person: the smallest area is a postcode district, and districts with fewer than
DISTRICT_MIN_COPIES copies are counted together as "other".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pipeline.postcode import district, find_postcode, names_postcode
from pipeline.records import OnlineRow
from pipeline.store.channels import ChannelResponse
from pipeline.store.store import PaperReturn

# A district with fewer copies than this is counted in "other": a count of 1 or 2 copies of a
# small area comes too near to saying who answered.
DISTRICT_MIN_COPIES = 5
OTHER_DISTRICTS = "other"
UNKNOWN_DISTRICT = "unknown"  # an addressed copy whose address holds no UK postcode
UNKNOWN_WEEK = "unknown"  # a submission time an online tool wrote in no form papertwin reads

STANDARD, LARGE_PRINT = "standard", "large print"
# Where a response came from, in the order tables and the chart show them (the channels added
# after the first five come last, so the columns of tracking-weeks.csv keep their places).
CHANNELS: tuple[str, ...] = ("paper", "paper_other", "online", "online_variant_unknown",
                             "online_other", "paper_keyed", "phone", "letter")
CHANNEL_LABELS: Mapping[str, str] = {
    "paper": "paper",  # a printed copy back on paper
    "paper_other": "paper, other",  # a photocopy's further response, a form printed elsewhere
    "online": "online",  # giving the reference of one printed copy
    "online_variant_unknown": "online, variant unknown",  # a serial printed in several
    "online_other": "online, not from the mailing",  # no reference, or one never printed
    "paper_keyed": "paper, keyed",  # a paper return typed in by hand
    "phone": "phone",  # answers given on the telephone, keyed by whoever took the call
    "letter": "letter",  # a letter registered as a response
}
# The tracking's channel of each channel of the store's channel_responses.
STORE_CHANNELS: Mapping[str, str] = {"paper-keyed": "paper_keyed", "phone": "phone",
                                     "letter": "letter"}
_DISTRICT_ORDER = re.compile(r"([A-Z]+)(\d*)(.*)")

Copy = tuple[str, str]  # form key, serial


@dataclass(frozen=True)
class MailedForm:
    """One form key of the questionnaire as the register has it: its variant and the serials
    issued for it (the variants of one mailing share a questionnaire's run of serials, so a
    form's serials need not start at 1)."""

    form_key: str
    large_print: bool
    languages: tuple[str, ...]
    serials: frozenset[str]

    @property
    def variant(self) -> str:
        return LARGE_PRINT if self.large_print else STANDARD

    def issued_serial(self, serial: str) -> bool:
        """Whether a copy of this form was printed with this serial."""
        return serial in self.serials


@dataclass(frozen=True)
class VariantReturns:
    """The copies of one variant (large print or not, languages printed): out and back."""

    variant: str
    languages: str  # as printed, in order: "en", "en+cy"
    printed: int  # serials issued
    addressed: int  # of those, copies printed for a recipient on the mailing list
    paper: int  # copies returned on paper
    online: int  # copies whose reference an online response gave
    returned: int  # copies returned on any channel, each counted once
    keyed: int = 0  # copies whose serial a phoned-in or keyed response names
    letter: int = 0  # copies whose serial a letter names

    @property
    def not_returned(self) -> int:
        return self.printed - self.returned

    @property
    def rate(self) -> float | None:
        """Share of the copies printed that came back; None when none was printed."""
        return self.returned / self.printed if self.printed else None


@dataclass(frozen=True)
class WeekReturns:
    """The responses of one ISO week, per channel (in CHANNELS order)."""

    week: str  # "2026-W45", or UNKNOWN_WEEK
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class DistrictReturns:
    """The addressed copies of one postcode district (or of the districts counted together)."""

    district: str
    addressed: int
    paper: int
    online: int
    returned: int
    keyed: int = 0
    letter: int = 0

    @property
    def rate(self) -> float:
        return self.returned / self.addressed


@dataclass(frozen=True)
class ReminderRound:
    """A round of reminders (docs/reminders.md): the copies reminded in it, and how many of
    them have a response now, on any channel."""

    round: int
    sent: int
    replied: int

    @property
    def rate(self) -> float | None:
        return self.replied / self.sent if self.sent else None


def reminder_rounds(sent: Iterable[tuple[int, str]], replied: Collection[str]
                    ) -> tuple[ReminderRound, ...]:
    """Per round, from the (round, serial) of each reminder printed and the serials with a
    response now: how many were reminded and how many of those have replied."""
    by_round: dict[int, set[str]] = {}
    for number, serial in sent:
        by_round.setdefault(number, set()).add(serial)
    return tuple(ReminderRound(number, len(serials), sum(1 for s in serials if s in replied))
                 for number, serials in sorted(by_round.items()))


@dataclass(frozen=True)
class Tracking:
    """The tracking tables of one questionnaire."""

    questionnaire_id: str
    variants: tuple[VariantReturns, ...]
    channels: tuple[tuple[str, int], ...]  # responses per channel, in CHANNELS order
    weeks: tuple[WeekReturns, ...]
    districts: tuple[DistrictReturns, ...]
    reminders: tuple[ReminderRound, ...] = ()  # per round: reminded, and replied since

    @property
    def total(self) -> VariantReturns:
        """Every variant together."""
        return VariantReturns("all", "", *(sum(getattr(v, name) for v in self.variants)
                                           for name in ("printed", "addressed", "paper",
                                                        "online", "returned", "keyed",
                                                        "letter")))

    def responses(self, channel: str) -> int:
        return dict(self.channels)[channel]


def track(questionnaire_id: str, forms: Sequence[MailedForm], paper: Iterable[PaperReturn],
          online: Iterable[OnlineRow],
          contacts: Mapping[str, Mapping[str, Mapping[str, str]]],
          others: Iterable[ChannelResponse] = ()) -> Tracking:
    """The tracking tables of a questionnaire from its forms, its paper returns, its online
    responses, the mailing list's contacts (form key -> serial -> fields) and its responses on
    the other channels (`others`: keyed, phoned, letters that came, each in the week it was
    opened; report.py passes those received, a keyed one still waiting for its second entry or
    a decision included)."""
    by_key = {form.form_key: form for form in forms}
    channel_of: list[tuple[str, str]] = []  # (channel, when) per response
    on_paper: set[Copy] = set()
    for response in paper:
        form = by_key.get(response.form_key)
        mailed = (form is not None and response.serial == response.printed_serial
                  and form.issued_serial(response.serial))
        if mailed:
            on_paper.add((response.form_key, response.serial))
        channel_of.append(("paper" if mailed else "paper_other", response.first_read_at))
    online_copies: set[Copy] = set()
    for row in online:
        owners = [form.form_key for form in forms if form.issued_serial(row.respondent_ref)]
        if len(owners) == 1:
            online_copies.add((owners[0], row.respondent_ref))
        channel_of.append(({0: "online_other", 1: "online"}.get(len(owners),
                                                                "online_variant_unknown"),
                           row.submitted_at))
    keyed: set[Copy] = set()
    by_letter: set[Copy] = set()
    for other in others:
        channel = STORE_CHANNELS.get(other.channel)
        if channel is None:
            continue
        channel_of.append((channel, other.created_at))
        owner = _owner(forms, by_key, other)
        if owner is not None:
            (by_letter if channel == "letter" else keyed).add((owner, other.serial))
    counted = Counter(channel for channel, _ in channel_of)
    back = _Back(on_paper, online_copies, keyed, by_letter)
    return Tracking(
        questionnaire_id=questionnaire_id,
        variants=_variants(forms, contacts, back),
        channels=tuple((channel, counted[channel]) for channel in CHANNELS),
        weeks=_weeks(channel_of),
        districts=_districts(contacts, by_key, back),
    )


def _owner(forms: Sequence[MailedForm], by_key: Mapping[str, MailedForm],
           response: ChannelResponse) -> str | None:
    """The form key of the copy a keyed response or a letter names by its serial: the form it
    was keyed from when that form issued the serial, else the one form that did; None when it
    names no serial, or one no form or several forms issued."""
    if not response.serial:
        return None
    form = by_key.get(response.form_key)
    if form is not None and form.issued_serial(response.serial):
        return form.form_key
    owners = [form.form_key for form in forms if form.issued_serial(response.serial)]
    return owners[0] if len(owners) == 1 else None


@dataclass(frozen=True)
class _Back:
    """The copies back, per way they came back (a copy may be in several)."""

    paper: set[Copy]
    online: set[Copy]
    keyed: set[Copy]
    letter: set[Copy]

    def within(self, copies: Collection[Copy]) -> tuple[int, int, int, int, int]:
        """Of `copies`: how many back on paper, online, keyed, by letter, and on any of them."""
        sets = [self.paper, self.online, self.keyed, self.letter]
        counts = [sum(1 for copy in copies if copy in found) for found in sets]
        returned = sum(1 for copy in copies if any(copy in found for found in sets))
        return counts[0], counts[1], counts[2], counts[3], returned


def _variants(forms: Sequence[MailedForm],
              contacts: Mapping[str, Mapping[str, Mapping[str, str]]],
              back: _Back) -> tuple[VariantReturns, ...]:
    """One row per variant and languages, standard first; the form keys of one variant (two
    versions of the questionnaire, say) counted together."""
    groups: dict[tuple[str, str], list[MailedForm]] = {}
    for form in sorted(forms, key=lambda f: (f.large_print, f.languages, f.form_key)):
        groups.setdefault((form.variant, "+".join(form.languages)), []).append(form)
    rows = []
    for (variant, languages), members in groups.items():
        copies = {(form.form_key, serial) for form in members for serial in form.serials}
        paper, online, keyed, letter, returned = back.within(copies)
        rows.append(VariantReturns(
            variant, languages,
            printed=sum(len(form.serials) for form in members),
            addressed=sum(1 for form in members for serial in contacts.get(form.form_key, {})
                          if form.issued_serial(serial)),
            paper=paper, online=online, returned=returned, keyed=keyed, letter=letter))
    return tuple(rows)


def iso_week(moment: str) -> str:
    """The ISO week of a time as the store or an online tool writes it ("2026-11-03T10:00:00Z",
    "2026-11-03 10:00:00", "2026-11-03"): "2026-W45"; UNKNOWN_WEEK for any other text. The
    date is taken as written, in the time zone it was written in."""
    try:
        day = datetime.fromisoformat(moment.strip()).date()
    except ValueError:
        return UNKNOWN_WEEK
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _weeks(channel_of: Sequence[tuple[str, str]]) -> tuple[WeekReturns, ...]:
    """Responses per ISO week and channel, every week from the first to the last present (a
    week without returns is a row of noughts, so the series has no gaps), UNKNOWN_WEEK last."""
    counted = Counter((iso_week(when), channel) for channel, when in channel_of)
    known = sorted({week for week, _ in counted} - {UNKNOWN_WEEK})
    weeks = _week_range(known[0], known[-1]) if known else []
    if any(week == UNKNOWN_WEEK for week, _ in counted):
        weeks.append(UNKNOWN_WEEK)
    return tuple(WeekReturns(week, tuple(counted[week, channel] for channel in CHANNELS))
                 for week in weeks)


def _week_range(first: str, last: str) -> list[str]:
    def monday(week: str) -> date:
        year, number = week.split("-W")
        return date.fromisocalendar(int(year), int(number), 1)

    start, end = monday(first), monday(last)
    return [iso_week((start + timedelta(weeks=n)).isoformat())
            for n in range((end - start).days // 7 + 1)]


def contact_district(fields: Mapping[str, str]) -> str:
    """The postcode district of a recipient: from a postcode column, else the last postcode in
    the address; UNKNOWN_DISTRICT when neither holds one."""
    for name, value in fields.items():
        if names_postcode(name) and (found := find_postcode(value)):
            return district(found)
    for name, value in reversed(list(fields.items())):
        if name.strip().lower() != "name" and (found := find_postcode(value)):
            return district(found)
    return UNKNOWN_DISTRICT


def _districts(contacts: Mapping[str, Mapping[str, Mapping[str, str]]],
               forms: Mapping[str, MailedForm], back: _Back) -> tuple[DistrictReturns, ...]:
    """Addressed copies and returns per postcode district of the mailing list; districts of
    fewer than DISTRICT_MIN_COPIES copies counted together as OTHER_DISTRICTS."""
    copies: dict[str, list[Copy]] = {}
    for form_key, by_serial in contacts.items():
        form = forms.get(form_key)
        for serial, fields in by_serial.items():
            if form is not None and form.issued_serial(serial):
                copies.setdefault(contact_district(fields), []).append((form_key, serial))
    grouped: dict[str, list[Copy]] = {}
    for name, members in copies.items():
        small = name != UNKNOWN_DISTRICT and len(members) < DISTRICT_MIN_COPIES
        grouped.setdefault(OTHER_DISTRICTS if small else name, []).extend(members)
    rows = []
    for name, members in sorted(grouped.items(), key=lambda item: _district_key(item[0])):
        paper, online, keyed, letter, returned = back.within(members)
        rows.append(DistrictReturns(name, len(members), paper=paper, online=online,
                                    returned=returned, keyed=keyed, letter=letter))
    return tuple(rows)


def _district_key(name: str) -> tuple[int, str, int, str]:
    """Districts in postcode order (CF3 before CF10), then "other", then "unknown"."""
    if name in (OTHER_DISTRICTS, UNKNOWN_DISTRICT):
        return (1 if name == OTHER_DISTRICTS else 2, "", 0, "")
    match = _DISTRICT_ORDER.fullmatch(name)
    if match is None:
        return (0, name, 0, "")
    letters, digits, rest = match.groups()
    return (0, letters, int(digits or 0), rest)
