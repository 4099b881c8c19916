"""An injected change of practice: after a date, more proceedings in one area end at home.

Off by default, so extracts made without it are byte-identical to those made before it existed.
When on, it changes recorded outcomes only, with its own random stream (so every other value of
the extract is the same as without it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from recurrence.contract import OUTCOMES, REGIONS
from recurrence.synth import calibration as cal
from recurrence.synth.geography import Geography
from recurrence.synth.records import CARE, CARE_OUTCOME_P, SUPERVISION, Cases
from recurrence.synth.util import day

REMOVAL_CODES = ("care_order", "placement_order")
"""The outcome codes the generator treats as removal (the default [outcomes] mapping)."""


@dataclass(frozen=True)
class PracticeChange:
    """From ``start``, shift the share of care proceedings in ``geography`` ending at home.

    ``shift`` is in proportion points (0.2 = 20 points more ending at home or with family;
    negative for fewer). ``geography`` is a region code or a synthetic local authority code.
    """

    geography: str
    start: dt.date
    shift: float

    @classmethod
    def parse(cls, text: str) -> PracticeChange:
        """Read ``CODE:START:SHIFT``, e.g. ``E12000002:2016-04-01:0.2``.

        Examples
        --------
        >>> PracticeChange.parse("E12000002:2016-04-01:0.2").shift
        0.2
        """
        parts = text.split(":")
        try:
            code, start, shift = parts
            change = cls(code.strip(), dt.date.fromisoformat(start.strip()), float(shift))
        except ValueError:
            raise ValueError(
                f"Practice change {text!r} is not CODE:START:SHIFT, e.g. E12000002:2016-04-01:0.2."
            ) from None
        if not -1.0 <= change.shift <= 1.0:
            raise ValueError(f"Practice change shift must be between -1 and 1, got {change.shift}.")
        return change

    def describe(self) -> str:
        """One line for the manifest and the console."""
        return f"{self.geography} from {self.start.isoformat()}: {self.shift:+.2f} home_or_family"


def apply_practice_change(
    cases: Cases, geo: Geography, change: PracticeChange, rng: np.random.Generator
) -> int:
    """Move recorded outcomes of concluded care proceedings in the area after the start date.

    With a positive shift each removal outcome becomes a home-or-family outcome (drawn in the
    generator's usual proportions) with probability ``shift / share removed``, so the expected
    share ending at home rises by ``shift`` (capped at all of them); a negative shift moves
    home outcomes to removal the same way.

    Parameters
    ----------
    cases
        Recorded cases; ``cases.outcome`` is changed in place.
    geo
        The geography (local authority codes).
    change
        The change to inject.
    rng
        A random stream of its own.

    Returns
    -------
    int
        Outcomes changed.
    """
    if change.geography in REGIONS:
        area = cases.region == list(cal.REGION_CODES).index(change.geography)
    else:
        codes = list(geo.la_codes)
        if change.geography not in codes:
            raise ValueError(f"No region or synthetic local authority {change.geography!r}.")
        area = cases.la == codes.index(change.geography)
    removal = np.isin(cases.outcome, [OUTCOMES.index(c) for c in REMOVAL_CODES])
    eligible = (
        area
        & (cases.issue >= day(change.start))
        & np.isin(cases.app_type, [CARE, SUPERVISION])
        & (cases.outcome >= 0)
    )
    if not eligible.any() or change.shift == 0:
        return 0
    share_removed = removal[eligible].mean()
    source = removal if change.shift > 0 else ~removal
    base = share_removed if change.shift > 0 else 1 - share_removed
    p = min(1.0, abs(change.shift) / base) if base > 0 else 0.0
    move = eligible & source & (rng.random(len(source)) < p)
    targets = [
        i for i, code in enumerate(OUTCOMES) if (code in REMOVAL_CODES) != (change.shift > 0)
    ]
    weights = np.array([CARE_OUTCOME_P[i] for i in targets])
    cases.outcome[move] = rng.choice(targets, size=int(move.sum()), p=weights / weights.sum())
    return int(move.sum())
