"""Shared fixtures: a built form, its simulated returns, and Prefect on a throw-away home."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Prefect reads these when it is first imported: keep its state out of the user's home.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="papertwin-test-prefect-")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from pipeline.forms.build import BuiltForm
from pipeline.publish import build_forms
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import SimulatedBatch, simulate_returns
from pipeline.store.store import Store
from pipeline.workspace import Workspace

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATE = PROJECT / "form_templates" / "library_services.yaml"
ONLINE_EXPORT = PROJECT / "form_templates" / "library_services_online.csv"
SAMPLE_SCANS = PROJECT / "sample_scans"


def process_alive(pid: int) -> bool:
    """Running (a zombie is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def workspace_servers_under(folder: Path) -> list[int]:
    """The papertwin workspace servers running for a workspace under folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = [w for w in (entry / "cmdline").read_bytes().split(b"\0") if w]
        except OSError:
            continue
        if b"flows.workspace_server" in words and words[-1].startswith(os.fsencode(folder)) \
                and process_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="session", autouse=True)
def no_workspace_server_left(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """At the end of the session, the workspace servers a test left running are stopped
    (SIGTERM, which stops their Prefect servers too; SIGKILL after 15 s)."""
    yield
    base = tmp_path_factory.getbasetemp()
    left = workspace_servers_under(base)
    for pid in left:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while any(process_alive(pid) for pid in left) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.resolve(tmp_path / "workspace").ensure()


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, BuiltForm]:
    """Six copies of the shipped template, registered in a workspace of their own."""
    root = tmp_path_factory.mktemp("built")
    workspace = Workspace.resolve(root / "workspace").ensure()
    return workspace, build_forms(TEMPLATE, 6, root / "form", workspace)


@pytest.fixture(scope="session")
def simulated(built: tuple[Workspace, BuiltForm],
              tmp_path_factory: pytest.TempPathFactory) -> SimulatedBatch:
    """Those copies filled in and scanned with mild damage (skew, shift, noise, JPEG)."""
    _, form = built
    out = tmp_path_factory.mktemp("returns")
    return simulate_returns(form.pdf_path.parent, out, seed=1, damage=Damage.mild())


def _postgres_server_url() -> str:
    """The server tests/run.sh started; skip only where none was meant to be (a developer's
    machine without PostgreSQL), fail where it was (CI, or run.sh as root)."""
    url = os.environ.get("PAPERTWIN_TEST_POSTGRES_URL", "")
    if url:
        return url
    if os.environ.get("CI") or os.environ.get("PAPERTWIN_TEST_POSTGRES_REQUIRED"):
        pytest.fail("PAPERTWIN_TEST_POSTGRES_URL is not set although PostgreSQL was meant to be "
                    "tested (CI, or tests/run.sh as root): tests/run.sh starts the server")
    pytest.skip("PostgreSQL not tested: no server here. tests/run.sh starts one when PostgreSQL "
                "is installed; or set PAPERTWIN_TEST_POSTGRES_URL=postgresql+psycopg://...")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty store on each backend: a new SQLite file, or a new PostgreSQL
    database on the test server, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    import uuid

    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.exc import OperationalError

    server = _postgres_server_url()
    name = f"papertwin_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.fail(f"the PostgreSQL server at {make_url(server)!r} is unreachable: {exc}")
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An empty store, open, on each backend (a test module may mean another store by it)."""
    opened = Store.open(store_url)
    yield opened
    opened.close()
