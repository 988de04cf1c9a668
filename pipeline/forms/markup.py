"""Labels as a respondent reads them on paper, from the markup online forms put in them.

ODK Collect, KoboToolbox and SurveyCTO show labels with HTML (`<b>`, `<br>`, `<span style>`)
and a little Markdown (`**bold**`, `*emphasis*`, `# heading`, `[text](link)`); on paper the tags
would print as written. The text is kept, the tags are dropped, and line breaks stay line breaks.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

BREAKING_TAGS = frozenset({"br", "p", "div", "hr", "ul", "ol", "tr", "h1", "h2", "h3", "h4",
                           "h5", "h6", "blockquote"})
LINK = re.compile(r"\[([^\]\n]+)\]\([^)\s]+\)")
STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.MULTILINE)
TAG_LIKE = re.compile(r"<[A-Za-z/!]")


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BREAKING_TAGS:
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n\u2022 ")

    def handle_endtag(self, tag: str) -> None:
        if tag in BREAKING_TAGS - {"br", "hr"}:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(text: str) -> str:
    """The label without HTML tags or Markdown signs, entities decoded, each paragraph on a line
    of its own (a label is short: no blank lines between them)."""
    if TAG_LIKE.search(text) or "&" in text:
        parser = _TextOnly()
        parser.feed(text)
        parser.close()
        text = "".join(parts for parts in parser.parts).replace("\xa0", " ")
    text = LINK.sub(r"\1", text)
    text = STRONG.sub(r"\2", text)
    text = EMPHASIS.sub(r"\1", text)
    text = HEADING.sub("", text)
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
