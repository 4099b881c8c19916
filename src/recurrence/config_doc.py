"""``docs/configuration.md``: every setting, its default and its meaning, from ``defaults.toml``.

The page is generated (``python -m recurrence.config_doc > docs/configuration.md``) and a test
fails when it is out of date, so the page, the defaults and the report's settings table agree.
"""

from __future__ import annotations

import tomllib

from recurrence.paths import DEFAULTS_FILE

HEADER = """# Configuration

Every setting of `recurrence`, with its default and its meaning. This page is generated from
`src/recurrence/defaults.toml` (`python -m recurrence.config_doc > docs/configuration.md`); a test
fails when it is out of date.

Copy `defaults.toml`, change what you need and pass it with `recurrence run --config FILE`, or
change one setting for one run with `--set section.key=value` (for example
`--set rates.newborn_days=7`). Keys you leave out keep their defaults. Relative paths are resolved
from the working directory. The run report lists every setting used, with its meaning, under
"Methods and definitions".
"""


def _value(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(f"`{v}`" for v in value) or "(none)"
    if value == "":
        return "(empty)"
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def configuration_markdown() -> str:
    """The text of ``docs/configuration.md``."""
    from recurrence.report.about_sections import _defaults_comments, setting_meaning

    comments = _defaults_comments()
    defaults = tomllib.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    out = [HEADER.rstrip("\n")]
    for section, values in defaults.items():
        out.append(f"\n## `[{section}]`\n\n| setting | default | meaning |\n|---|---|---|")
        for key, value in values.items():
            meaning = _cell(setting_meaning(section, key, comments))
            out.append(f"| `{section}.{key}` | {_cell(_value(value))} | {meaning} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(configuration_markdown())
