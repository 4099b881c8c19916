"""Where the project's own files live, resolved from the installed package.

From a checkout (an editable install) ``sql/`` and ``data_samples/`` sit beside ``src/``; a wheel
carries copies inside the package (``pyproject.toml`` force-includes them), so an installed wheel
runs without the checkout. The copy inside the package wins when it is there.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# src/recurrence -> src -> checkout root (meaningless inside site-packages, hence the fallbacks).
PROJECT_ROOT = PACKAGE_DIR.parents[1]


def _bundled_or_checkout(name: str) -> Path:
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PROJECT_ROOT / name


SQL_DIR = _bundled_or_checkout("sql")
DATA_SAMPLES_DIR = _bundled_or_checkout("data_samples")
SAMPLE_EXTRACT_DIR = DATA_SAMPLES_DIR / "sample"
DEFAULTS_FILE = PACKAGE_DIR / "defaults.toml"
#: ``paths.extract`` as shipped in ``defaults.toml``: the bundled sample extract.
DEFAULT_EXTRACT_SETTING = "data_samples/sample"
