"""The import graph keeps each concern with its owner (docs/architecture.md).

The store is the only door to the database; the library never reaches into the flows; the store
knows the shared records, not the stages that make them. Read from the source with ast, lazy
imports inside functions included, so a rule cannot be broken quietly.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import PROJECT

STORE = "pipeline.store"
DATABASE = ("sqlalchemy", "alembic", "pipeline.store.schema", "pipeline.store.migrations")
STAGES_THE_STORE_MUST_NOT_KNOW = ("pipeline.read", "pipeline.scan", "pipeline.forms",
                                  "pipeline.review")


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path) -> list[tuple[str, set[str]]]:
    """Each import statement of a file, as written, with the modules it may name (`from
    package import name` may name the module package.name)."""
    package = module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = {alias.name for alias in node.names}
            found.append((f"import {', '.join(sorted(names))}", names))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = {alias.name for alias in node.names}
            found.append((f"from {base} import {', '.join(sorted(names))}",
                          {base, *(f"{base}.{name}" for name in names)}))
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def broken_rules(root: Path) -> list[str]:
    """What breaks the rules, one line per import statement; empty when nothing does."""
    broken = []
    for path in sorted([*(root / "pipeline").rglob("*.py"), *(root / "flows").rglob("*.py")]):
        module = module_name(path, root)
        in_store = _within(module, (STORE,))
        in_pipeline = _within(module, ("pipeline",))
        for statement, names in imports_of(path, root):
            def names_any(prefixes: tuple[str, ...], names: set[str] = names) -> bool:
                return any(_within(name, prefixes) for name in names)

            if not in_store and names_any(DATABASE):
                broken.append(f"{module}: {statement} (only pipeline/store/ talks to the "
                              "database)")
            if in_pipeline and names_any(("flows", "prefect")):
                broken.append(f"{module}: {statement} (pipeline/ never imports flows or "
                              "Prefect)")
            if in_store and names_any(STAGES_THE_STORE_MUST_NOT_KNOW):
                broken.append(f"{module}: {statement} (the store imports the shared records, "
                              "pipeline/records.py, not the stages)")
        if not in_store:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            broken += [f"{module}: .engine on line {node.lineno} (the store's engine is its own)"
                       for node in ast.walk(tree)
                       if isinstance(node, ast.Attribute) and node.attr == "engine"]
    return broken


def test_each_concern_is_imported_only_through_its_owner() -> None:
    assert broken_rules(PROJECT) == []


def test_the_rules_catch_what_they_forbid(tmp_path: Path) -> None:
    """The checker itself: a tree that breaks every rule, lazily or at the top."""
    files = {
        "pipeline/review/peek.py": "from sqlalchemy import select\n",
        "pipeline/dataset/raw.py": ("def f(store):\n    from pipeline.store import schema\n"
                                    "    return store.engine.connect()\n"),
        "pipeline/cli.py": "def main():\n    from flows.ingest import run_ingest\n",
        "pipeline/store/answers.py": "from pipeline.read.page import read_page\n",
        "pipeline/store/ok.py": ("from sqlalchemy import select\n"
                                 "from pipeline.records import Layout\n"),
        "flows/export.py": "from sqlalchemy.exc import OperationalError\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert broken_rules(tmp_path) == [
        "flows.export: from sqlalchemy.exc import OperationalError (only pipeline/store/ talks "
        "to the database)",
        "pipeline.cli: from flows.ingest import run_ingest (pipeline/ never imports flows or "
        "Prefect)",
        "pipeline.dataset.raw: from pipeline.store import schema (only pipeline/store/ talks "
        "to the database)",
        "pipeline.dataset.raw: .engine on line 3 (the store's engine is its own)",
        "pipeline.review.peek: from sqlalchemy import select (only pipeline/store/ talks to the "
        "database)",
        "pipeline.store.answers: from pipeline.read.page import read_page (the store imports "
        "the shared records, pipeline/records.py, not the stages)",
    ]
