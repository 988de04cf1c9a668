"""What a sheet-feeder scanner does to a page: skew, shift, noise, JPEG compression."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

Image8 = NDArray[np.uint8]


@dataclass(frozen=True)
class Damage:
    max_rotation_deg: float = 2.0
    max_shift_px: int = 12
    noise_sigma: float = 6.0
    jpeg_quality: int = 75

    @classmethod
    def mild(cls) -> Damage:
        """What a well-kept sheet feeder does: the defaults."""
        return cls()

    @classmethod
    def none(cls) -> Damage:
        """No skew, shift or noise and near-lossless JPEG: pages as printed."""
        return cls(max_rotation_deg=0.0, max_shift_px=0, noise_sigma=0.0, jpeg_quality=95)


def damage_page(image: Image8, damage: Damage, rng: np.random.Generator) -> Image8:
    """A damaged copy of a grey or BGR page; the input is left as it was."""
    height, width = image.shape[:2]
    angle = float(rng.uniform(-damage.max_rotation_deg, damage.max_rotation_deg))
    dx = float(rng.integers(-damage.max_shift_px, damage.max_shift_px + 1))
    dy = float(rng.integers(-damage.max_shift_px, damage.max_shift_px + 1))
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    matrix[0, 2] += dx
    matrix[1, 2] += dy
    white = (255, 255, 255) if image.ndim == 3 else 255
    out = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=white)
    if damage.noise_sigma > 0:
        # Sensor noise; the scanner's white point clips most of it on bare paper.
        noise = rng.normal(damage.noise_sigma * 1.5, damage.noise_sigma, out.shape)
        out = np.clip(out.astype(np.float32) + noise, 0, 255)
    return np.asarray(out, dtype=np.uint8)


def encode_jpeg(image: Image8, quality: int) -> bytes:
    """The image as JPEG bytes at `quality` (0-100)."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(data.tobytes())
