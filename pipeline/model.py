"""The questionnaire model every template source is turned into.

Question and choice `name`s are the column names and codes of the online survey, so paper and online
answers land in the same columns. Type names follow XLSForm (select_one, select_multiple, text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

QuestionType = Literal["select_one", "select_multiple", "text"]
QUESTION_TYPES: tuple[QuestionType, ...] = ("select_one", "select_multiple", "text")


@dataclass(frozen=True)
class Choice:
    name: str
    label: str


@dataclass(frozen=True)
class Question:
    name: str
    type: QuestionType
    label: str
    hint: str = ""
    choices: tuple[Choice, ...] = ()
    lines: int = 4  # height of a free-text area, in written lines

    def choice_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.choices)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "type": self.type, "label": self.label}
        if self.hint:
            data["hint"] = self.hint
        if self.choices:
            data["choices"] = [{"name": c.name, "label": c.label} for c in self.choices]
        if self.type == "text":
            data["lines"] = self.lines
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Question:
        return cls(
            name=str(data["name"]),
            type=data["type"],
            label=str(data["label"]),
            hint=str(data.get("hint", "")),
            choices=tuple(Choice(str(c["name"]), str(c["label"])) for c in data.get("choices", [])),
            lines=int(data.get("lines", 4)),
        )


@dataclass(frozen=True)
class ReturnInfo:
    """Where and by when the paper copy goes back, printed on the form."""

    address: str = ""
    closing_date: str = ""
    helpline: str = ""


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: str
    title: str
    questions: tuple[Question, ...]
    intro: str = ""
    organisation: str = ""
    returns: ReturnInfo = field(default_factory=ReturnInfo)

    def question(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "intro": self.intro,
            "organisation": self.organisation,
            "returns": {
                "address": self.returns.address,
                "closing_date": self.returns.closing_date,
                "helpline": self.returns.helpline,
            },
            "questions": [q.to_dict() for q in self.questions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Questionnaire:
        returns = data.get("returns") or {}
        return cls(
            id=str(data["id"]),
            version=str(data["version"]),
            title=str(data["title"]),
            intro=str(data.get("intro", "")),
            organisation=str(data.get("organisation", "")),
            returns=ReturnInfo(
                address=str(returns.get("address", "")),
                closing_date=str(returns.get("closing_date", "")),
                helpline=str(returns.get("helpline", "")),
            ),
            questions=tuple(Question.from_dict(q) for q in data["questions"]),
        )
