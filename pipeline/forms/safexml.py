"""XML files from outside (queXML templates, queXF banding): parsed with defusedxml only.

No entity declarations and no external references are accepted, a runaway file is refused by
size, and every problem is a TemplateError that names the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from pipeline.errors import TemplateError
from pipeline.forms.limits import read_limited

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element  # types only: parsing goes through defusedxml

MAX_BYTES = 20 * 1024 * 1024  # far above any real questionnaire; refuses runaway inputs


def parse_xml_file(path: Path, root_tag: str, what: str, max_bytes: int = MAX_BYTES) -> Element:
    """The root element, which must be `root_tag`; namespaces are dropped from every tag."""
    data = read_limited(path, max_bytes, what)
    try:
        root: Element = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise TemplateError(f"{what} {path} is refused: it declares XML entities or external "
                            "references, which it never needs") from exc
    except (SafeET.ParseError, ValueError, LookupError) as exc:
        raise TemplateError(f"{what} {path} is not well-formed XML: {first_line(exc)}") from exc
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    if root.tag != root_tag:
        raise TemplateError(f"{what} {path}: the root element is <{root.tag}>, not "
                            f"<{root_tag}>: is this the right kind of file?")
    return root


def first_line(exc: Exception) -> str:
    """The first line of an exception's message, for an error that names the file; its class name
    when it has no message."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
