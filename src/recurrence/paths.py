"""Where the project's own files live, resolved from the installed package."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# src/recurrence -> src -> checkout root; `sql/` and `data_samples/` sit outside the package.
PROJECT_ROOT = PACKAGE_DIR.parents[1]
SQL_DIR = PROJECT_ROOT / "sql"
DATA_SAMPLES_DIR = PROJECT_ROOT / "data_samples"
SAMPLE_EXTRACT_DIR = DATA_SAMPLES_DIR / "sample"
DEFAULTS_FILE = PACKAGE_DIR / "defaults.toml"
