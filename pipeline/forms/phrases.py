"""The fixed texts every form prints, in each language papertwin prints in."""

from __future__ import annotations

PHRASES: dict[str, dict[str, str]] = {
    "instructions_pen": {
        "en": "Please use a black or blue pen. Mark each answer with a tick or a cross inside "
              "the box.",
        "cy": "Defnyddiwch feiro du neu las. Rhowch dic neu groes yn y blwch ar gyfer pob ateb.",
    },
    "instructions_cancel": {
        "en": "If you make a mistake, fill that box in completely and tick the box you meant.",
        "cy": "Os gwnewch gamgymeriad, llenwch y blwch hwnnw'n llwyr a thiciwch y blwch cywir.",
    },
    "tick_one": {"en": "Please tick one box.", "cy": "Ticiwch un blwch."},
    "tick_all": {"en": "Please tick all that apply.", "cy": "Ticiwch bob un sy'n berthnasol."},
    "tick_row": {"en": "Please tick one box in each row.", "cy": "Ticiwch un blwch ym mhob rhes."},
    "write_text": {"en": "Please write clearly inside the box.",
                   "cy": "Ysgrifennwch yn glir yn y blwch."},
    "write_cells": {"en": "Please write one letter or number in each box.",
                    "cy": "Ysgrifennwch un llythyren neu rif ym mhob blwch."},
    "write_date": {"en": "Day, month, year.", "cy": "Diwrnod, mis, blwyddyn."},
    "specify": {"en": "Please specify:", "cy": "Nodwch:"},
    "go_to": {"en": "Go to question {n}", "cy": "Ewch i gwestiwn {n}"},
    "go_to_end": {"en": "Go to the end", "cy": "Ewch i'r diwedd"},
    "continued": {"en": "(continued)", "cy": "(parhad)"},
    "page": {"en": "Page {n} of {m}", "cy": "Tudalen {n} o {m}"},
    "serial": {"en": "Serial", "cy": "Rhif"},
    "thanks": {"en": "Thank you for taking part.", "cy": "Diolch am gymryd rhan."},
    "return_by": {"en": "Please return this questionnaire by {date} in the envelope provided.",
                  "cy": "Dychwelwch yr holiadur hwn erbyn {date} yn yr amlen a ddarparwyd."},
    "return_free": {"en": "No stamp is needed. The address is:",
                    "cy": "Nid oes angen stamp. Y cyfeiriad yw:"},
    "helpline": {"en": "Questions, or need this in another format? Call free on {number}.",
                 "cy": "Cwestiynau, neu angen hwn mewn fformat arall? Ffoniwch am ddim ar "
                       "{number}."},
    "cover_greeting": {"en": "Dear {name},", "cy": "Annwyl {name},"},
    "cover_enclosed": {"en": "Please find enclosed a questionnaire about:",
                       "cy": "Amgaeir holiadur am:"},
    "undelivered": {"en": "If undelivered, please return to:",
                    "cy": "Os na ellir ei ddosbarthu, dychwelwch at:"},
    "repeat_each": {"en": "Please answer once for each, up to {n}, starting with 1. Leave the "
                          "rest blank.",
                    "cy": "Atebwch unwaith ar gyfer pob un, hyd at {n}, gan ddechrau gydag 1. "
                          "Gadewch y gweddill yn wag."},
    "repeat_rows": {"en": "Please use one row for each, up to {n}, starting with row 1. Leave "
                          "the rest blank.",
                    "cy": "Defnyddiwch un rhes ar gyfer pob un, hyd at {n}, gan ddechrau gyda "
                          "rhes 1. Gadewch y gweddill yn wag."},
}
KNOWN_LANGUAGES = ("en", "cy")


def phrase(key: str, lang: str, **values: str) -> str:
    texts = PHRASES[key]
    return texts.get(lang, texts["en"]).format(**values)
