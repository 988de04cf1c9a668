"""A typed letter a respondent sends instead of the form, scanned as the returns are.

Some people answer a consultation by letter. The simulator writes one: the sender's address
block, the date, paragraphs about the consultation drawn from a seed, a signature over the typed
name, over two pages; printed to PDF, rasterised, and damaged like the forms. Its text is kept
as the truth a reading of it is measured against.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from pipeline.programs.poppler import rasterise_page
from pipeline.simulate.damage import Damage, damage_page, encode_jpeg

FONT = "Times-Roman"
SIZE = 11.5
LEADING = 15.0
MARGIN = 72.0  # points: an inch each side, as a word processor sets a letter

SENDERS = (("Margaret Ellis", "14 Orchard Lane", "Kings Norton", "Birmingham", "B30 3HT"),
           ("David Pritchard", "Flat 2, 7 Harbour Street", "Whitby", "North Yorkshire",
            "YO21 3PU"),
           ("Eileen Thomas", "Ty Newydd, Heol y Felin", "Llandeilo", "Carmarthenshire",
            "SA19 6AB"),
           ("Robert Hughes", "3 Station Cottages", "Ambleside", "Cumbria", "LA22 9DH"))
OPENINGS = (
    "I am writing in response to your consultation on the future of local services, as I do "
    "not use the internet and found the form difficult to fill in.",
    "Thank you for the consultation papers which arrived last week. I would rather set out my "
    "views in a letter than tick boxes, so I hope this will be counted.",
)
CONCERNS = (
    "The library on the high street is used every day by older residents, by parents with "
    "small children and by people who have no computer at home. Closing it on two weekdays "
    "would leave many of us with nowhere warm and quiet to go.",
    "The bus service to the town centre has already been reduced to one journey every two "
    "hours. If the health centre moves to the edge of town, as the proposal suggests, I do "
    "not see how people without a car will reach their appointments.",
    "I have lived in this area for over forty years and I have watched the post office, the "
    "bank and the police station close one after another. Each time we were told that the "
    "change would improve the service, and each time it did the opposite.",
    "Opening hours that suit people who work during the day would be welcome, but not at the "
    "cost of the morning sessions that many pensioners rely on. Perhaps the council could "
    "open later on one evening a week instead.",
    "The consultation asks whether we would support moving services into a single building. "
    "I would, provided that it is on a bus route, has step free access and keeps a person at "
    "the desk rather than a screen.",
)
SUGGESTIONS = (
    "I would ask the council to publish the figures on which these proposals are based, so "
    "that residents can see for themselves how often each service is used.",
    "Could volunteers from the residents association help to keep the building open? Several "
    "of my neighbours have said that they would be willing to give a few hours each week.",
    "Please hold a public meeting in the village hall before any decision is made, at a time "
    "when working people and carers are able to attend.",
)
CLOSINGS = (
    "I hope that my views will be taken into account alongside those who replied online. "
    "Please let me know when the results of the consultation are published.",
    "Thank you for taking the time to read this letter. I would be grateful for a reply "
    "telling me what has been decided and when.",
)


@dataclass(frozen=True)
class Letter:
    """A letter as typed: its pages' lines (a blank line between paragraphs) and who signs."""

    pages: tuple[tuple[str, ...], ...]
    sender: str

    @property
    def text(self) -> str:
        """The letter's truth: every page's lines, pages one after the other."""
        return "\n\n".join("\n".join(lines).strip("\n") for lines in self.pages)


def compose_letter(seed: int, when: dt.date | None = None) -> Letter:
    """A two-page letter drawn from `seed`: the same seed, the same letter."""
    rng = np.random.default_rng([seed, 31])
    name, *address = SENDERS[int(rng.integers(len(SENDERS)))]
    date = when or dt.date(2026, 3, 2) + dt.timedelta(days=int(rng.integers(0, 40)))
    concerns = [CONCERNS[int(i)] for i in rng.permutation(len(CONCERNS))[:4]]
    paragraphs_1 = [OPENINGS[int(rng.integers(len(OPENINGS)))], *concerns[:2]]
    paragraphs_2 = [*concerns[2:], SUGGESTIONS[int(rng.integers(len(SUGGESTIONS)))],
                    CLOSINGS[int(rng.integers(len(CLOSINGS)))]]
    width = A4[0] - 2 * MARGIN
    first: list[str] = [name, *address, "", f"{date.day} {date:%B %Y}", "",
                        "The Consultation Team", "Freepost PAPERTWIN", "", "Dear Sir or Madam,",
                        ""]
    for paragraph in paragraphs_1:
        first += [*simpleSplit(paragraph, FONT, SIZE, width), ""]
    second: list[str] = []
    for paragraph in paragraphs_2:
        second += [*simpleSplit(paragraph, FONT, SIZE, width), ""]
    second += ["Yours faithfully,", "", name]
    return Letter((tuple(first), tuple(second)), name)


def print_letter(letter: Letter, pdf: Path) -> Path:
    """The letter typed on A4: the address block right-aligned, as letters are set out, and
    a signature drawn over the typed name."""
    page = canvas.Canvas(str(pdf), pagesize=A4)
    address_lines = letter.pages[0].index("")
    for number, lines in enumerate(letter.pages):
        y = A4[1] - MARGIN
        page.setFont(FONT, SIZE)
        for i, line in enumerate(lines):
            signs = number == len(letter.pages) - 1 and i == len(lines) - 1
            if signs:  # room for the signature above the typed name
                y -= LEADING * 1.6
                _signature(page, MARGIN, y + LEADING * 0.9)
            if number == 0 and i < address_lines + 2:  # address and date, to the right
                page.drawRightString(A4[0] - MARGIN, y, line)
            else:
                page.drawString(MARGIN, y, line)
            y -= LEADING if line else LEADING * 0.8
        page.setFont(FONT, 9)
        page.drawCentredString(A4[0] / 2, MARGIN / 2, f"{number + 1}")
        page.showPage()
    page.save()
    return pdf


def _signature(page: canvas.Canvas, x: float, y: float) -> None:
    """A pen flourish above the typed name: a signature OCR should leave alone."""
    path = page.beginPath()
    path.moveTo(x, y)
    path.curveTo(x + 15, y + 22, x + 25, y - 4, x + 40, y + 10)
    path.curveTo(x + 55, y + 24, x + 62, y - 2, x + 90, y + 6)
    page.setLineWidth(1.1)
    page.setStrokeColorRGB(0.1, 0.1, 0.35)
    page.drawPath(path, stroke=1, fill=0)
    page.setStrokeColorRGB(0, 0, 0)


def scanned_letter(letter: Letter, dpi: int, damage: Damage,
                   rng: np.random.Generator) -> list[bytes]:
    """The letter's pages printed, scanned and damaged as the returns are: JPEG bytes each."""
    with tempfile.TemporaryDirectory(prefix="papertwin-letter-") as folder:
        pdf = print_letter(letter, Path(folder) / "letter.pdf")
        images = [rasterise_page(pdf, number, dpi) for number in range(1, len(letter.pages) + 1)]
    return [encode_jpeg(damage_page(image, damage, rng), damage.jpeg_quality)
            for image in images]
