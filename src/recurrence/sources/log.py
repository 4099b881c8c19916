"""The adaptation log: counts in and out per rule, rows set aside with reasons; never an id."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class AdaptationLog:
    """What each adapter rule saw and did. Holds counts and reasons only, never a value."""

    source: str
    rules: list[dict[str, object]] = field(default_factory=list)
    set_aside: Counter[tuple[str, str]] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)

    def rule(self, name: str, table: str, rows_in: int, rows_out: int, changed: int = 0) -> None:
        """Record one rule applied to one table: rows before, rows after, rows changed."""
        self.rules.append(
            {
                "rule": name,
                "table": table,
                "rows_in": rows_in,
                "rows_out": rows_out,
                "changed": changed,
            }
        )

    def aside(self, table: str, reason: str, count: int = 1) -> None:
        """Count rows of ``table`` set aside (not written to the extract) for ``reason``."""
        if count:
            self.set_aside[(table, reason)] += count

    def as_dict(self) -> dict[str, object]:
        """The log as plain JSON values."""
        return {
            "source": self.source,
            "rules": self.rules,
            "set_aside": [
                {"table": t, "reason": r, "rows": n} for (t, r), n in sorted(self.set_aside.items())
            ],
            "figures": self.figures,
            "notes": self.notes,
        }

    def write(self, path: Path) -> Path:
        """Write the log as JSON."""
        path.write_text(json.dumps(self.as_dict(), indent=2, default=str) + "\n")
        return path

    def describe(self) -> str:
        """A few lines for the terminal."""
        lines = [f"adapted {self.source}"]
        for key, value in self.figures.items():
            lines.append(f"  {key}: {value}")
        for (table, reason), n in sorted(self.set_aside.items()):
            lines.append(f"  set aside from {table}: {n} ({reason})")
        return "\n".join(lines)
