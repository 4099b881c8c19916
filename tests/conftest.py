"""Fixtures shared across test folders: the sample ingested, one full pipeline run on it, and
system tools."""

import contextlib
import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.runner import run_pipeline
from recurrence.config import load_config
from recurrence.ingest import ingest_extract
from recurrence.paths import SAMPLE_EXTRACT_DIR
from recurrence.warehouse import connect

CHROMIUM = "/usr/bin/chromium"

#: Session fixtures that run the whole pipeline (about a minute each): under pytest-xdist every
#: test using one is sent to the same worker, so each runs once per suite, not once per worker.
SHARED_RUNS = ("full_sample_run", "baseline_run")

#: Files whose tests are independent whole runs sharing only a cheap fixture: spread over the
#: workers one test at a time (every other file stays on one worker, with its module fixtures).
SPREAD_FILES = ("test_shapes.py",)
APT_PACKAGES = ("chromium", "poppler-utils")


@dataclass(frozen=True)
class SampleRun:
    """A whole-graph run on data_samples/sample: its exit code, warehouse and run folder."""

    code: int
    root: Path
    warehouse: Path
    reports: Path
    stdout: str

    @property
    def run_folder(self) -> Path:
        """reports/<run_id>/ of the run (the one folder that is not ``latest``)."""
        (folder,) = [p for p in self.reports.iterdir() if p.is_dir() and p.name != "latest"]
        return folder


@pytest.fixture(scope="session")
def staged_sample(tmp_path_factory) -> Path:
    """A warehouse holding the sample extract ingested with the default settings.

    Shared by the whole session: copy it before writing to it.
    """
    path = tmp_path_factory.mktemp("staged_sample") / "staged.duckdb"
    con = connect(path)
    try:
        ingest_extract(con, SAMPLE_EXTRACT_DIR, load_config().ingest)
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def full_sample_run(tmp_path_factory) -> SampleRun:
    """Run the whole asset graph once on the sample extract, into tmp paths (shared by the
    report, notebook and linkage tests, so the suite pays for one run); keeps what it printed."""
    root = tmp_path_factory.mktemp("full_sample_run")
    home = root / "dagster_home"
    home.mkdir()
    warehouse, reports = root / "wh.duckdb", root / "reports"
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.setenv("DAGSTER_HOME", str(home))
        code = run_pipeline(
            extract=str(SAMPLE_EXTRACT_DIR),
            warehouse=str(warehouse),
            reports=str(reports),
        )
    return SampleRun(code, root, warehouse, reports, out.getvalue())


def _group_of_file(path: str) -> str | None:
    """The shared whole run (of :data:`SHARED_RUNS`) a test file uses, if any."""
    file = Path(__file__).parent.parent / path
    text = file.read_text(encoding="utf-8") if file.is_file() else ""
    return next((name for name in SHARED_RUNS if name in text), None)


def pytest_xdist_make_scheduler(config, log):
    """Schedule tests over pytest-xdist's workers by file, and by shared whole run.

    Every test file goes whole to one worker, so module-scoped fixtures (a linkage run, a Spark
    session, a built wheel) are paid once, as without xdist; every file that uses a
    whole-pipeline session fixture of :data:`SHARED_RUNS` goes to that fixture's worker, so each
    whole run on the sample happens once per suite, not once per worker; the independent runs of
    :data:`SPREAD_FILES` are spread one test at a time. A scheduler, not ``xdist_group`` marks:
    with pytest 9.2, xdist 3.8's ``--dist loadgroup`` does not see the marks (it renames node
    ids through an attribute pytest no longer reads), and each sample run ran twice.
    """
    from xdist.scheduler import LoadScopeScheduling

    groups: dict[str, str] = {}

    class SharedRunScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if Path(path).name in SPREAD_FILES:
                return nodeid
            if path not in groups:
                groups[path] = _group_of_file(path) or path
            return groups[path]

    return SharedRunScheduling(config, log)


@pytest.fixture(scope="session")
def system_tools() -> dict[str, str]:
    """Paths of chromium, pdftoppm and pdftotext (``tests/system_tools.sh`` installs them).

    Never installs anything itself. Fails in CI (env CI set) when they are missing; otherwise
    skips with how to install them.
    """

    def found() -> dict[str, str] | None:
        tools = {
            "chromium": CHROMIUM if Path(CHROMIUM).exists() else None,
            "pdftoppm": shutil.which("pdftoppm"),
            "pdftotext": shutil.which("pdftotext"),
        }
        return tools if all(tools.values()) else None  # type: ignore[return-value]

    tools = found()
    if tools is None:
        how = (
            "needs /usr/bin/chromium, pdftoppm and pdftotext: run tests/system_tools.sh "
            f"(as root), or `sudo apt-get install -y --no-install-recommends "
            f"{' '.join(APT_PACKAGES)}`"
        )
        if os.environ.get("CI"):
            pytest.fail(how)
        pytest.skip(how)
    return tools
