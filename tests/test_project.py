"""Rules the project keeps: pipeline/ free of Prefect, samples that match the template."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.forms.layout import plan_form
from pipeline.forms.template_yaml import load_template
from pipeline.programs.poppler import page_count

from .conftest import PROJECT, SAMPLE_SCANS, TEMPLATE


def test_pipeline_does_not_import_prefect() -> None:
    offenders = []
    for path in (PROJECT / "pipeline").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "prefect"]
    assert offenders == []


def test_sample_scans_were_made_from_the_shipped_template() -> None:
    truth = json.loads((SAMPLE_SCANS / "truth.json").read_text())
    layout = plan_form(load_template(TEMPLATE)).layout
    assert truth["form_key"] == layout.form_key, (
        "the template's layout changed: regenerate sample_scans/ (see sample_scans/README.md)"
    )
    assert page_count(SAMPLE_SCANS / "returns.pdf") == len(truth["responses"]) * len(layout.pages)


@pytest.mark.slow
def test_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    env = {**os.environ, "PAPERTWIN_HOME": str(tmp_path / "unused")}
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "demo", "--workspace", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "pages: 16 (16 identified)" in out
    assert "14 responses (6 online, 8 paper), 5 questions" in out
    assert "32 of 32 choice answers right, 0 flagged, 0 wrong" in out
    dataset = tmp_path / "demo" / "dataset.csv"
    assert f"4. dataset: {dataset}" in out
    assert len(dataset.read_text().splitlines()) == 15


def test_readme_installs_the_packages_the_test_command_installs() -> None:
    readme = (PROJECT / "README.md").read_text()
    run_sh = (PROJECT / "tests" / "run.sh").read_text()
    line = next(x for x in run_sh.splitlines() if x.startswith("APT_PACKAGES="))
    packages = line.split("=", 1)[1].strip('"').split()
    install = next(x for x in readme.splitlines() if x.startswith("apt-get update"))
    assert f"install -y --no-install-recommends {' '.join(packages)} &&" in install
