"""Draws the planned pages with reportlab, one set per copy, each with its own page code.

Each page's fixed content is drawn once as a PDF form XObject and reused by every copy: only the
code, the serial and (on the cover letter) the address, salutation and reference differ, so large
print runs stay small and fast. The letter itself is laid out in letter.py, the order of a copy's
pages in printorder.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import BinaryIO

import numpy as np
import zxingcpp
from numpy.typing import NDArray
from reportlab.pdfgen.canvas import Canvas

from pipeline.forms.blocks import TextOp
from pipeline.forms.layout import FormPlan
from pipeline.forms.letter import (
    ADDRESS_WINDOW,
    ImageOp,
    LetterDesign,
    LetterOp,
    Letters,
    address_ops,
    blank_page_ops,
    plan_letters,
    slot_ops,
)
from pipeline.forms.phrases import phrase
from pipeline.forms.printorder import print_order
from pipeline.forms.recipients import Recipient
from pipeline.forms.style import (
    BOLD,
    KEY_TEXT_SIZE,
    MONO,
    SERIAL_LABEL_BASELINE,
    SERIAL_LABEL_GAP,
    SERIAL_LABEL_SIZE,
)
from pipeline.forms.typeset import draw_text
from pipeline.records import Box, Copy, Mark

QR_ERROR_CORRECTION = "Q"  # a quarter of the codewords may be lost: docs/layout-manifest.md
QR_QUIET_MODULES = 2
__all__ = ["ADDRESS_WINDOW", "letter_design", "qr_modules", "render_pdf"]


def render_pdf(plan: FormPlan, copies: Sequence[Copy], out: BinaryIO,
               recipients: Sequence[Recipient] | None = None, letters: Letters | None = None,
               duplex: bool = False) -> None:
    """Write the print-ready PDF to `out`: byte-identical for the same input.

    With recipients, each copy begins with its cover letter (`letters`, laid out for the whole
    run; laid out here for these recipients when not given). Duplex pads each copy to whole
    sheets with pages that say they are blank.
    """
    width, height = plan.layout.page_size
    if recipients is not None and letters is None:
        letters = plan_letters(letter_design(plan), recipients, [c.serial for c in copies])
    order = print_order(letters.pages if letters is not None else 0, len(plan.pages), duplex)
    canvas = Canvas(out, pagesize=(width, height), invariant=1, pageCompression=1)
    canvas.setTitle(plan.layout.title)
    canvas.setAuthor("papertwin")
    canvas.setSubject(f"form {plan.layout.form_key}")
    canvas.setCreator("papertwin")
    for page_plan in plan.pages:
        canvas.beginForm(f"page{page_plan.page}")
        _draw_ops(canvas, page_plan.ops, height)
        for mark in plan.layout.page_layout(page_plan.page).marks:
            _draw_mark(canvas, mark, height)
        canvas.endForm()
    if order.letter_pages or order.padding_pages:
        canvas.beginForm("blank")
        _draw_ops(canvas, blank_page_ops(plan.languages, plan.style), height)
        canvas.endForm()
    drawn: dict[int, str] = {}  # letter layouts (by identity) already made into forms
    for number, copy in enumerate(copies):
        if letters is not None and recipients is not None:
            drawn_pages = _draw_letter(canvas, letters, recipients[number], copy.serial, drawn,
                                       height)
            _blank_pages(canvas, order.letter_pages - drawn_pages)
        for page_plan, code in zip(plan.pages, copy.codes, strict=True):
            canvas.doForm(f"page{page_plan.page}")
            box = plan.layout.page_layout(page_plan.page).barcode
            _draw_code(canvas, box, code, copy.serial, plan.languages, height)
            canvas.showPage()
        _blank_pages(canvas, order.padding_pages)
    canvas.save()


def letter_design(plan: FormPlan, today: date | None = None) -> LetterDesign:
    """What every letter of a run printed from this plan shares."""
    return LetterDesign(plan.layout.questionnaire, plan.languages, plan.style,
                        plan.layout.large_print, plan.right_to_left, today or date.today())


def _draw_letter(canvas: Canvas, letters: Letters, recipient: Recipient, serial: str,
                 drawn: dict[int, str], height: float) -> int:
    """One recipient's letter: its layout's fixed pages, then their own texts; returns pages."""
    pages, fit = letters.copy(serial, recipient)
    name = drawn.get(id(pages))
    if name is None:
        name = drawn[id(pages)] = f"letter{len(drawn)}"
        for index, page in enumerate(pages):
            canvas.beginForm(f"{name}p{index}")
            _draw_ops(canvas, page.ops, height)
            canvas.endForm()
    design = letters.design
    for index, page in enumerate(pages):
        canvas.doForm(f"{name}p{index}")
        own: list[LetterOp] = list(slot_ops(design, page, recipient, serial))
        if index == 0:
            own.extend(address_ops(design, fit))
        _draw_ops(canvas, own, height)
        canvas.showPage()
    return len(pages)


def _blank_pages(canvas: Canvas, count: int) -> None:
    for _ in range(count):
        canvas.doForm("blank")
        canvas.showPage()


def _draw_ops(canvas: Canvas, ops: Sequence[LetterOp], height: float) -> None:
    for op in ops:
        if isinstance(op, ImageOp):
            x0, y0, x1, y1 = op.box
            canvas.drawImage(op.path, x0, height - y1, x1 - x0, y1 - y0, mask="auto")
            continue
        if isinstance(op, TextOp):
            canvas.setFillGray(op.grey)
            draw_text(canvas, op.x, height - op.y, op.text, op.font, op.size, op.align, op.grey)
            continue
        x0, y0, x1, y1 = op.box
        canvas.setLineWidth(op.width)
        canvas.setStrokeGray(op.grey)
        canvas.setDash(1, 2) if op.dotted else canvas.setDash()
        if op.line_only:
            canvas.line(x0, height - y0, x1, height - y0)
            continue
        if op.fill_grey is not None:
            canvas.setFillGray(op.fill_grey)
        canvas.rect(x0, height - y1, x1 - x0, y1 - y0, stroke=1 if op.width > 0 else 0,
                    fill=1 if op.fill_grey is not None else 0)
    canvas.setDash()
    canvas.setFillGray(0)
    canvas.setStrokeGray(0)


def _draw_mark(canvas: Canvas, mark: Mark, height: float) -> None:
    x0, y0, x1, y1 = mark.box
    size = x1 - x0
    canvas.setFillGray(0)
    canvas.rect(x0, height - y1, size, y1 - y0, stroke=0, fill=1)
    if mark.kind == "ring":
        hole = size * 0.4
        canvas.setFillGray(1)
        canvas.rect(x0 + (size - hole) / 2, height - y1 + (size - hole) / 2, hole, hole,
                    stroke=0, fill=1)
        canvas.setFillGray(0)


def _draw_code(canvas: Canvas, box: Box, payload: str, serial: str, languages: Sequence[str],
               height: float) -> None:
    """The QR code as one path of filled runs, written straight into the page content."""
    x0, y0, x1, _ = box
    modules = qr_modules(payload)
    count = modules.shape[0]
    unit = (x1 - x0) / (count + 2 * QR_QUIET_MODULES)
    left, top = x0 + QR_QUIET_MODULES * unit, height - y0 - QR_QUIET_MODULES * unit
    operators = ["q 0 g"]
    for row in range(count):
        dark = np.flatnonzero(np.diff(np.concatenate(([0], modules[row], [0]))))
        y = top - (row + 1) * unit
        for start, end in zip(dark[::2], dark[1::2], strict=True):
            operators.append(f"{left + start * unit:.3f} {y:.3f} {(end - start) * unit:.3f} "
                             f"{unit:.3f} re")
    operators.append("f Q")
    canvas.addLiteral("\n".join(operators))
    # The same key as text, for keying by hand when the code cannot be read.
    canvas.setFillGray(0)
    canvas.setFont(MONO, KEY_TEXT_SIZE)
    canvas.drawRightString(x1, height - box[3] - KEY_TEXT_SIZE - 1, payload)
    label = " / ".join(dict.fromkeys(phrase("serial", lang) for lang in languages))
    draw_text(canvas, x0 - SERIAL_LABEL_GAP, height - y0 - SERIAL_LABEL_BASELINE,
              f"{label} {serial}", BOLD, SERIAL_LABEL_SIZE, "right")


def qr_modules(payload: str) -> NDArray[np.uint8]:
    """The code's modules, 1 for dark, encoded by zxing-cpp at QR_ERROR_CORRECTION."""
    code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode,
                                   ec_level=QR_ERROR_CORRECTION)
    image = np.asarray(code.to_image(scale=1, add_quiet_zones=False), dtype=np.uint8)
    return (image < 128).astype(np.uint8)
