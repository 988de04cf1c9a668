"""Repeat groups written as tables of their own, keyed to their parent response the way the
online platform's export keys them (DESIGN.md, "Unified dataset").

The dataset holds a repeat's answers as instance-named columns, `member[2]/age`, one per printed
copy (and per online instance beyond them). An analyst wants what ODK Central and KoboToolbox
give instead: one row per instance that was filled in, its questions as columns named within the
repeat (`age`), and a key to its parent. ODK Central keys a row by `KEY`
(`<parent KEY>/member[2]`) and `PARENT_KEY`; KoboToolbox by `_index` (the row's number in its
table), `_parent_index` (the parent row's `_index`, the main table getting an `_index` too),
`_parent_table_name`, and the submission's `_submission__uuid`. Every table also has the parent
response's `response_id` and `channel`, and `_needs_review`: the instance's questions still
waiting for a person, so that a copy whose answers wait is never read as one left blank.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

import pandas as pd

from pipeline.model import Questionnaire, instance_path, repeat_paths
from pipeline.records import OnlineNaming

KEY_STYLES = ("odk", "kobo")
DEFAULT_KEYS = "odk"  # ODK Central's, when no online export of another tool was reconciled
MAIN_TABLE = "dataset"  # what a top-level repeat's `_parent_table_name` names: the main table
Steps = tuple[tuple[str, int], ...]  # an instance's (repeat, copy) steps: ((visit, 1), (plot, 2))
Instance = tuple[int, Steps]  # the dataset row of its response, and its steps
ByStep = dict[Steps, list[tuple[str, str]]]  # instance -> (dataset column, name within the copy)
Indexes = dict[tuple[str, ...], dict[Instance, int]]  # Kobo's `_index` of each instance written
_TOOL = re.compile(r" \((\w+)\)$")  # the tool an online row's `_source` ends with: "(kobo)"


def key_style(frame: pd.DataFrame) -> str:
    """How the reconciled online export keys repeat tables: the tool its rows were read as
    (their `_source` ends with it, pipeline/online/read.py), when ODK Central or Kobo and only
    one of them; else papertwin's default, ODK Central's."""
    online: list[str] = frame.loc[frame["channel"] == "online", "_source"].tolist() \
        if len(frame) else []
    tools = {found[1] for source in online if (found := _TOOL.search(source)) is not None}
    tools &= set(KEY_STYLES)
    return tools.pop() if len(tools) == 1 else DEFAULT_KEYS


def column_within(path: tuple[str, ...], name: str) -> str:
    """A question's column in its repeat table: its name within the copy (`age`, a multiple
    choice's 0/1 column `crops/maize`). The one place to name columns by group path instead."""
    return name


def repeat_tables(frame: pd.DataFrame, questionnaire: Questionnaire, convention: str = DEFAULT_KEYS,
                  ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The dataset without its repeat columns, and a table per repeat group (by its name; a
    name used by two groups gets `~2`, as ODK Central names its files), keyed as `convention`
    (odk or kobo) keys them. Every column stays text. The frame is not changed."""
    paths = {path: path for path, _ in repeat_paths(questionnaire.items)}
    columns: dict[tuple[str, ...], ByStep] = defaultdict(dict)
    for column in frame.columns:
        steps, rest = instance_path(str(column))
        path = tuple(name for name, _ in steps)
        if rest and path in paths:
            columns[path].setdefault(steps, []).append((str(column), rest))
    main = frame.drop(columns=[c for by_steps in columns.values() for parts in by_steps.values()
                               for c, _ in parts])
    if not paths:
        return main, {}
    kobo = convention == "kobo"
    if kobo:
        main = main.assign(_index=[str(i) for i in range(1, len(main) + 1)])
    waiting = _waiting(frame)
    kept = _kept(frame, columns, waiting)
    tables: dict[str, pd.DataFrame] = {}
    indexes: Indexes = {}
    for path, name in zip(paths, _table_names(paths), strict=True):
        tables[name], indexes[path] = _table(frame, path, columns.get(path, {}), kept, waiting,
                                             kobo, indexes)
    return main, tables


def table_questions(questionnaire: Questionnaire) -> dict[str, dict[str, str]]:
    """Repeat table -> its column -> a question of the questionnaire it holds (the first copy's,
    `member[1]/age` for `age`; a 0/1 column's `crops/maize` is the question's and `/maize`): what
    types and labels a repeat table's columns take."""
    paths = [path for path, _ in repeat_paths(questionnaire.items)]
    names = dict(zip(paths, _table_names(paths), strict=True))
    found: dict[str, dict[str, str]] = {name: {} for name in names.values()}
    for question in questionnaire.questions:
        steps, rest = instance_path(question.name)
        path = tuple(name for name, _ in steps)
        if path in names and rest:
            found[names[path]].setdefault(column_within(path, rest), question.name)
    return found


def repeat_column_names(columns: list[str], held: Mapping[str, str],
                        naming: OnlineNaming) -> dict[str, str]:
    """A repeat table's columns (`age`, `crops/maize`) -> the names the online export's own
    table of that repeat gave them (`household/member/age`), where the import recorded one
    (records.OnlineNaming: `member[*]/age`); a name another column has is not taken."""
    question = next(iter(held.values()), "")
    steps = instance_path(question)[0]
    prefix = "".join(f"{repeat}[*]/" for repeat, _ in steps)
    renames: dict[str, str] = {}
    taken = set(columns)
    for column in columns:
        target = naming.columns.get(prefix + column)
        if target is not None and target != column and target not in taken:
            renames[column] = target
            taken.add(target)
    return renames


def _table_names(paths: Iterable[tuple[str, ...]]) -> list[str]:
    names: list[str] = []
    for path in paths:
        name, n = path[-1], 1
        while name in names:
            n += 1
            name = f"{path[-1]}~{n}"
        names.append(name)
    return names


def _waiting(frame: pd.DataFrame) -> dict[Instance, list[str]]:
    """Instance -> its questions listed in `_needs_review`, by name within the copy."""
    found: dict[Instance, list[str]] = defaultdict(list)
    if "_needs_review" not in frame.columns:
        return found
    for row, names in enumerate(frame["_needs_review"].tolist()):
        for name in str(names).split():
            steps, rest = instance_path(name)
            if steps:
                found[(row, steps)].append(rest)
    return found


def _kept(frame: pd.DataFrame, columns: dict[tuple[str, ...], ByStep],
          waiting: dict[Instance, list[str]]) -> set[Instance]:
    """Every instance written: one with an answer or a question waiting, and the instances
    around it (a visit's row for its plot's, even if the visit's own questions were left
    blank)."""
    kept: set[Instance] = set(waiting)
    for by_steps in columns.values():
        for steps, parts in by_steps.items():
            answered = (frame[[c for c, _ in parts]] != "").any(axis=1).to_numpy()
            kept.update((int(row), steps) for row in answered.nonzero()[0])
    for row, steps in list(kept):
        kept.update((row, steps[:j]) for j in range(1, len(steps)))
    return kept


def _table(frame: pd.DataFrame, path: tuple[str, ...], by_steps: ByStep, kept: set[Instance],
           waiting: dict[Instance, list[str]], kobo: bool, indexes: Indexes,
           ) -> tuple[pd.DataFrame, dict[Instance, int]]:
    """One repeat group's table: its instances in the dataset's row order, then copy order."""
    names = list(dict.fromkeys(column_within(path, rest) for parts in by_steps.values()
                               for _, rest in parts))
    mine = sorted(((row, steps) for row, steps in kept
                   if tuple(n for n, _ in steps) == path),
                  key=lambda item: (item[0], [k for _, k in item[1]]))
    ids = frame["response_id"].tolist()
    channels = frame["channel"].tolist()
    values = {steps: list(zip(*(frame[c].tolist() for c, _ in parts), strict=True))
              for steps, parts in by_steps.items()}
    within = {steps: [column_within(path, rest) for _, rest in parts]
              for steps, parts in by_steps.items()}
    records: list[dict[str, str]] = []
    own_index: dict[Instance, int] = {}
    for number, (row, steps) in enumerate(mine, start=1):
        answers = values.get(steps)
        record = {"response_id": ids[row], "channel": channels[row],
                  **{name: "" for name in names},
                  **({} if answers is None else dict(zip(within[steps], answers[row],
                                                         strict=True))),
                  "_needs_review": " ".join(waiting.get((row, steps), []))}
        if kobo:
            own_index[(row, steps)] = number
            parent = indexes[path[:-1]][(row, steps[:-1])] if len(path) > 1 else row + 1
            record.update({"_index": str(number),
                           "_parent_table_name": path[-2] if len(path) > 1 else MAIN_TABLE,
                           "_parent_index": str(parent), "_submission__uuid": ids[row]})
        else:
            record.update({"PARENT_KEY": _key(ids[row], steps[:-1]),
                           "KEY": _key(ids[row], steps)})
        records.append(record)
    keys = ["_index", "_parent_table_name", "_parent_index", "_submission__uuid"] if kobo \
        else ["PARENT_KEY", "KEY"]
    order = ["response_id", "channel", *names, "_needs_review", *keys]
    table = pd.DataFrame.from_records(records, columns=order).fillna("").astype(str)
    return table, own_index


def _key(response_id: str, steps: Steps) -> str:
    """ODK Central's KEY of an instance: its submission's, then each repeat and copy."""
    return "/".join([response_id, *(f"{name}[{k}]" for name, k in steps)])
