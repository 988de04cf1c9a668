"""The organisation's logo for the cover letter's letterhead: a PNG or JPEG beside the template.

A template names its logo by a path relative to the template file; it is checked when the
template is read, so that a missing or broken image stops the build before anything is printed,
with a message naming the file, rather than failing half-way through a print run.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from pipeline.errors import TemplateError
from pipeline.forms.limits import MIB, read_limited
from pipeline.model import Label

LOGO_BYTES = 5 * MIB  # a letterhead logo is tens of kilobytes
LOGO_PIXELS = 25_000_000  # 5000 x 5000: past this a file is no logo, and costs memory to draw
FORMATS = {"PNG", "JPEG"}


def logo_paths(given: Label, template: Path, setting: str) -> Label:
    """Each language's logo as an absolute path, checked; `setting` names where it was given."""
    return Label(tuple((lang, str(check_logo(template.parent / text.strip(), template, setting)))
                       for lang, text in given.texts))


def check_logo(path: Path, template: Path, setting: str) -> Path:
    """The logo's resolved path, once it is known to be a PNG or JPEG image that can be drawn."""
    where = f"template {template}: {setting}"
    if not path.is_file():
        raise TemplateError(f"{where}: the logo {path} does not exist: give the path of a PNG or "
                            "JPEG file, relative to the template")
    data = read_limited(path, LOGO_BYTES, "logo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind, size = image.format, image.size
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise TemplateError(f"{where}: the logo {path} is not a PNG or JPEG image that can be "
                            "read: save it again as PNG") from exc
    if kind not in FORMATS:
        raise TemplateError(f"{where}: the logo {path} is a {kind} image; papertwin prints PNG "
                            "or JPEG logos: save it as PNG")
    if size[0] * size[1] > LOGO_PIXELS:
        raise TemplateError(f"{where}: the logo {path} is {size[0]} x {size[1]} pixels; a logo "
                            f"of at most {LOGO_PIXELS:,} pixels prints as well: make it smaller")
    return path.resolve()
