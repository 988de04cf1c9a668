"""One entry for every template format: YAML, XLSForm (.xlsx, .xls, .csv, .md), queXML (.xml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import TemplateError
from pipeline.forms.checks import check_questionnaire
from pipeline.forms.limits import DEFAULT_LIMITS, TemplateLimits, check_limits
from pipeline.forms.routing import apply_routing
from pipeline.model import Questionnaire

YAML_SUFFIXES = {".yaml", ".yml"}
XLSFORM_SUFFIXES = {".xlsx", ".xls", ".csv", ".md"}
QUEXML_SUFFIXES = {".xml"}


@dataclass(frozen=True)
class LoadedTemplate:
    questionnaire: Questionnaire
    warnings: tuple[str, ...] = field(default_factory=tuple)


def load_questionnaire(path: Path, limits: TemplateLimits = DEFAULT_LIMITS) -> LoadedTemplate:
    """The questionnaire in a template file, and warnings naming what could not be printed.

    Each format checks the raw file against `limits` before interpreting it; the questionnaire
    is checked against them here, once, before anything is laid out.
    """
    if not path.exists():
        raise TemplateError(f"template {path} does not exist: check the path")
    suffix = path.suffix.lower()
    warnings: list[str] = []
    if suffix in YAML_SUFFIXES:
        from pipeline.forms.template_yaml import load_template

        questionnaire = load_template(path, limits)
    elif suffix in XLSFORM_SUFFIXES:
        from pipeline.forms.template_xlsform import load_xlsform

        questionnaire, warnings = load_xlsform(path, limits)
    elif suffix in QUEXML_SUFFIXES:
        from pipeline.forms.template_quexml import load_quexml

        questionnaire, warnings = load_quexml(path, limits)
    else:
        raise TemplateError(
            f"template {path}: papertwin reads YAML (.yaml), XLSForm (.xlsx, .xls, .csv, .md) and "
            "queXML (.xml) templates"
        )
    check_questionnaire(questionnaire, str(path))
    check_limits(questionnaire, f"template {path}", limits)
    routed, routing_warnings = apply_routing(questionnaire)
    return LoadedTemplate(routed, tuple(warnings + routing_warnings))
