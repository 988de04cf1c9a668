"""Draws the planned pages with reportlab, one set per copy, each with its own page code.

Each page's fixed content is drawn once as a PDF form XObject and reused by every copy: only the
code, the serial and (on the cover letter) the address differ, so large print runs stay small and
fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

import numpy as np
import zxingcpp
from numpy.typing import NDArray
from reportlab.pdfgen.canvas import Canvas

from pipeline.forms.blocks import RuleOp, TextOp, wrap
from pipeline.forms.layout import A4, MARGIN, FormPlan
from pipeline.forms.manifest import Box, Copy, Mark
from pipeline.forms.phrases import phrase
from pipeline.forms.recipients import Recipient
from pipeline.forms.style import BOLD, KEY_TEXT_SIZE, MM, MONO, REGULAR
from pipeline.forms.typeset import draw_text

QR_ERROR_CORRECTION = "M"
QR_QUIET_MODULES = 2
ADDRESS_WINDOW = (20 * MM, 50 * MM, 105 * MM, 85 * MM)  # C5 and DL window envelopes


def render_pdf(plan: FormPlan, copies: Sequence[Copy], out: BinaryIO,
               recipients: Sequence[Recipient] | None = None) -> None:
    """Write the print-ready PDF to `out`: byte-identical for the same input."""
    width, height = plan.layout.page_size
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
    if recipients is not None:
        canvas.beginForm("cover")
        _draw_cover(canvas, plan, height)
        canvas.endForm()
    for number, copy in enumerate(copies):
        if recipients is not None:
            canvas.doForm("cover")
            _draw_address(canvas, recipients[number], copy.serial, plan, height)
            canvas.showPage()
        for page_plan, code in zip(plan.pages, copy.codes, strict=True):
            canvas.doForm(f"page{page_plan.page}")
            box = plan.layout.page_layout(page_plan.page).barcode
            _draw_code(canvas, box, code, copy.serial, plan.languages, height)
            canvas.showPage()
    canvas.save()


def _draw_ops(canvas: Canvas, ops: Sequence[TextOp | RuleOp], height: float) -> None:
    for op in ops:
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
    draw_text(canvas, x0 - 3, height - y0 - 8, f"{label} {serial}", BOLD, 8, "right")


def qr_modules(payload: str) -> NDArray[np.uint8]:
    """The code's modules, 1 for dark, encoded by zxing-cpp with error correction M."""
    code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode,
                                   ec_level=QR_ERROR_CORRECTION)
    image = np.asarray(code.to_image(scale=1, add_quiet_zones=False), dtype=np.uint8)
    return (image < 128).astype(np.uint8)


def _draw_cover(canvas: Canvas, plan: FormPlan, height: float) -> None:
    """The cover letter's fixed part: who writes, what is enclosed, and how to reply."""
    questionnaire = plan.layout.questionnaire
    returns = questionnaire.returns
    size = plan.style.body
    canvas.setFillGray(0)
    y = 20 * MM
    for organisation in dict.fromkeys(questionnaire.organisation.text(lang)
                                      for lang in plan.languages):
        if organisation:
            draw_text(canvas, A4[0] - MARGIN, height - y, organisation, BOLD, size, "right")
            y += size * 1.3
    if returns.address:
        undelivered = phrase("undelivered", plan.languages[0])
        draw_text(canvas, ADDRESS_WINDOW[0], height - ADDRESS_WINDOW[1] + 3,
                  f"{undelivered} {returns.address.splitlines()[0]}", REGULAR, 7)
    paragraphs: dict[tuple[tuple[str, str], ...], None] = {}  # once if two languages agree
    for lang in plan.languages:
        paragraph = [(REGULAR, phrase("cover_enclosed", lang)),
                     (BOLD, questionnaire.title.text(lang)), (REGULAR, "")]
        if returns.closing_date:
            paragraph.append((REGULAR, phrase("return_by", lang, date=returns.closing_date)))
        if returns.helpline:
            paragraph.append((REGULAR, phrase("helpline", lang, number=returns.helpline)))
        paragraph.append((REGULAR, ""))
        paragraphs[tuple(paragraph)] = None
    lines = [line for paragraph in paragraphs for line in paragraph]
    y = ADDRESS_WINDOW[3] + 32 * MM
    x, align = (A4[0] - MARGIN, "right") if plan.right_to_left else (MARGIN, "left")
    for font, text in lines:
        for line in wrap(text, font, size, A4[0] - 2 * MARGIN) if text else [""]:
            draw_text(canvas, x, height - y, line, font, size, align)
            y += size * 1.4


def _draw_address(canvas: Canvas, recipient: Recipient, serial: str, plan: FormPlan,
                  height: float) -> None:
    x0, y0, x1, _ = ADDRESS_WINDOW
    size = 11.0 if not plan.layout.large_print else 14.0
    canvas.setFillGray(0)
    x, align = (x1 - 2 * MM, "right") if plan.right_to_left else (x0 + 2 * MM, "left")
    for i, line in enumerate((recipient.name, *recipient.address)):
        draw_text(canvas, x, height - y0 - 4 * MM - (i + 1) * size * 1.2, line, REGULAR, size,
                  align)
    greeting = " / ".join(dict.fromkeys(
        phrase("cover_greeting", lang, name=recipient.name) for lang in plan.languages))
    x, align = (A4[0] - MARGIN, "right") if plan.right_to_left else (MARGIN, "left")
    draw_text(canvas, x, height - ADDRESS_WINDOW[3] - 20 * MM, greeting, REGULAR,
              plan.style.body, align)
    canvas.setFont(REGULAR, 8)
    canvas.drawRightString(A4[0] - MARGIN, height - ADDRESS_WINDOW[1] - 4 * MM, f"Ref {serial}")
