"""The ids a route takes from its address (path or query), bounded as the store holds them.

A number past what the store's integer columns hold (32 bits on PostgreSQL), or a text longer
than its column or holding a control character (PostgreSQL refuses NUL in text), names nothing
the app has: such an address is answered 404 (app.py) before any query is made, where the
database would otherwise fail on it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**31 - 1
_TEXT = r"^[^\x00-\x1f\x7f]*$"

FileHash = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
PageIndex = Annotated[int, Path(ge=1, le=MAX_ID)]  # a page of a scan file, from 1
PageNumber = Annotated[int, Path(ge=1, le=MAX_ID)]  # a page of a form, from 1
FormKey = Annotated[str, Path(min_length=1, max_length=128, pattern=_TEXT)]
Serial = Annotated[str, Path(min_length=1, max_length=32, pattern=_TEXT)]
QuestionName = Annotated[str, Path(min_length=1, max_length=128, pattern=_TEXT)]
ResponseId = Annotated[str, Path(min_length=1, max_length=128, pattern=_TEXT)]
BatchId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
# An answer's key in a query, "form key|serial|question", and other names given in a query.
AnswerKeyText = Annotated[str, Query(max_length=128 + 1 + 32 + 1 + 128, pattern=_TEXT)]
QueryText = Annotated[str, Query(max_length=128, pattern=_TEXT)]
