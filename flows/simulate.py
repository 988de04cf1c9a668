"""simulate_returns: filled, scanner-damaged returns of a built form, as a flow run (the demo's
and the tests' scans come from it, so a run of them shows beside the ingest it feeds)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline.simulate.answers import OFF_ROUTE_SHARE
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import SimulatedBatch, simulate_returns


@task(name="fill and scan", cache_policy=NO_CACHE)
def fill_and_scan(form_dir: Path, out_dir: Path, seed: int, dpi: int, damage: Damage,
                  degradation: str | None, marks: tuple[str, ...],
                  off_route: float | None, letter: bool = False) -> SimulatedBatch:
    return simulate_returns(form_dir, out_dir, seed=seed, dpi=dpi, damage=damage,
                            degradation=degradation, marks=marks,
                            off_route=OFF_ROUTE_SHARE if off_route is None else off_route,
                            letter=letter)


@flow(name="simulate_returns")
def simulate(form_dir: Path, out_dir: Path, seed: int = 1, dpi: int = 200,
             damage: Damage | None = None, degradation: str | None = None,
             marks: tuple[str, ...] = (), off_route: float | None = None,
             letter: bool = False) -> SimulatedBatch:
    """Every copy of the form filled in, printed and scanned with damage; `off_route` is the
    share of respondents who answer what their route skips (the simulator's default if None);
    `letter` puts a typed letter among the forms."""
    return fill_and_scan(form_dir, out_dir, seed, dpi, damage or Damage.mild(), degradation,
                         marks, off_route, letter)
