"""Identification: read the page code with zxing-cpp, where it should be first, then anywhere."""

from __future__ import annotations

import numpy as np
import zxingcpp
from numpy.typing import NDArray

from pipeline.forms.pagecode import PageCode, decode_page_code

Image8 = NDArray[np.uint8]

# Where our code sits on an upright page, as shares of width and height (top-right corner).
CODE_REGION = (0.55, 0.0, 1.0, 0.2)


def read_page_code(upright: Image8) -> PageCode | None:
    height, width = upright.shape[:2]
    x0, y0, x1, y1 = CODE_REGION
    region = np.ascontiguousarray(
        upright[int(y0 * height) : int(y1 * height), int(x0 * width) : int(x1 * width)]
    )
    for image in (region, upright):
        code = _decode(image)
        if code is not None:
            return code
    return None


def _decode(image: Image8) -> PageCode | None:
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    for barcode in zxingcpp.read_barcodes(image, formats=formats):
        code = decode_page_code(barcode.text)
        if code is not None:
            return code
    return None
