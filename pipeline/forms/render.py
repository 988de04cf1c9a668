"""Draws the planned pages with reportlab, one set of pages per copy, each with its page code."""

from __future__ import annotations

import io

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.pdfgen.canvas import Canvas

from pipeline.forms.layout import BODY_FONT, FormPlan, PagePlan, RuleOp, TextOp
from pipeline.forms.manifest import Box, Copy, Mark

QR_ERROR_CORRECTION = "M"


def render_pdf(plan: FormPlan, copies: tuple[Copy, ...]) -> bytes:
    """The print-ready PDF: every copy's pages in order. Byte-identical for the same input."""
    width, height = plan.layout.page_size
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=1, pageCompression=1)
    canvas.setTitle(plan.layout.title)
    canvas.setAuthor("papertwin")
    canvas.setSubject(f"form {plan.layout.form_key}")
    for copy in copies:
        for page_plan, code in zip(plan.pages, copy.codes, strict=True):
            layout_page = plan.layout.page_layout(page_plan.page)
            _draw_page(canvas, page_plan, height)
            for mark in layout_page.marks:
                _draw_mark(canvas, mark, height)
            _draw_code(canvas, layout_page.barcode, code, copy.serial, height)
            canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_page(canvas: Canvas, page: PagePlan, height: float) -> None:
    for op in page.ops:
        if isinstance(op, TextOp):
            canvas.setFillGray(0)
            canvas.setFont(op.font, op.size)
            if op.align == "centre":
                canvas.drawCentredString(op.x, height - op.y, op.text)
            elif op.align == "right":
                canvas.drawRightString(op.x, height - op.y, op.text)
            else:
                canvas.drawString(op.x, height - op.y, op.text)
        elif isinstance(op, RuleOp):
            x0, y0, x1, y1 = op.box
            canvas.setLineWidth(op.width)
            canvas.setStrokeGray(op.grey)
            canvas.setFillGray(op.grey)
            canvas.rect(x0, height - y1, x1 - x0, y1 - y0, stroke=1, fill=1 if op.fill else 0)


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


def _draw_code(canvas: Canvas, box: Box, payload: str, serial: str, height: float) -> None:
    x0, y0, x1, y1 = box
    size = x1 - x0
    widget = QrCodeWidget(payload, barLevel=QR_ERROR_CORRECTION, barBorder=2)
    bx0, by0, bx1, by1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (bx1 - bx0), 0, 0, size / (by1 - by0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x0, height - y1)
    canvas.setFillGray(0)
    canvas.setFont(BODY_FONT, 5.5)
    # The same key as text, for keying by hand when the code cannot be read.
    canvas.drawRightString(x1, height - y1 - 7, payload)
    canvas.setFont("Helvetica-Bold", 8)
    canvas.drawRightString(x0 - 3, height - y0 - 8, f"Serial {serial}")
