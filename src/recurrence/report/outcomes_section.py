"""The report's section on how proceedings end, from ``published.outcomes`` only."""

from __future__ import annotations

from typing import Any

from recurrence.outcomes import key_outcome_figures
from recurrence.outcomes.figures import Figure
from recurrence.outcomes.proportions import ALL, ALL_YEARS
from recurrence.rates.newborns import ENGLAND_AND_WALES
from recurrence.report.content import Paragraph, Section, Table, count, interval, pct
from recurrence.report.inputs import ReportInputs
from recurrence.report.numbers import Numbers

OUTCOMES_TABLE = "published.outcomes"

#: Plain-English names of the mother's-history groups of the published table.
GROUP_NAMES: dict[str, str] = {
    "index": "Mother's first set of proceedings in the data",
    "returning": "Mother returning after earlier proceedings",
    "no_mother_recorded": "No mother recorded in the proceedings",
    "previous_removal": "An earlier set ended in removal",
    "no_previous_removal": "No earlier set ended in removal",
}


def _key(measure: str, group: str = ALL) -> dict[str, Any]:
    """The row of ``published.outcomes`` a key figure was picked from.

    England and Wales, all
    years of issue; see :func:`recurrence.outcomes.key_outcome_figures`).
    """
    return {
        "geography_code": ENGLAND_AND_WALES,
        "year": ALL_YEARS,
        "group": group,
        "measure": measure,
    }


def _share(figure: Figure, key: dict[str, Any], numbers: Numbers) -> tuple[str, str, str]:
    """Share, interval and 'n of N' of one released proportion, hidden parts as the symbol."""

    def cell(column: str, value: Any, fmt=pct) -> str:
        return numbers.cell(OUTCOMES_TABLE, key, column, value, fmt)

    shown = cell("value", figure.value)
    limits = (
        interval(cell("ci_lower", figure.ci_lower), cell("ci_upper", figure.ci_upper))
        if figure.value is not None
        else numbers.symbol
    )
    return shown, limits, cell("denominator", figure.denominator, count)


def _weeks(figure: Figure, measure: str, numbers: Numbers) -> str:
    return numbers.cell(
        OUTCOMES_TABLE, _key(measure), "value", figure.value, lambda v, _: f"{v:.1f} weeks"
    )


def outcomes_section(inputs: ReportInputs) -> Section | None:
    """How care proceedings ended, for whom, and how long they took (England and Wales)."""
    published = inputs.tables.get(OUTCOMES_TABLE)
    if published is None or published.is_empty():
        return None
    numbers = inputs.numbers
    target = numbers.constant(inputs.config.outcomes.target_weeks, "setting")
    key = key_outcome_figures(published)
    home, home_ci, ended = _share(key.home, _key("home_or_family"), numbers)
    removal, removal_ci, _ = _share(key.removal, _key("removal"), numbers)
    within, within_ci, _ = _share(key.within_target, _key("within_target"), numbers)
    rows = tuple(
        (
            numbers.text(GROUP_NAMES.get(group, group.replace("_", " "))),
            *_share(figure, _key("home_or_family", group), numbers),
        )
        for group, figure in key.home_by_group.items()
    )
    return Section(
        "outcomes",
        "How proceedings end",
        (
            Paragraph(
                f"Of the {ended} sets of care proceedings in England and Wales that had ended, "
                f"{home} ended with the child at home or with family (95% confidence interval "
                f"{home_ci}) and {removal} with the child removed by a care or placement order "
                f"(95% confidence interval {removal_ci}). Sets "
                "still open at the extract's end date are counted apart as ongoing."
            ),
            Paragraph(
                "Time from issue to final hearing: median "
                f"{_weeks(key.weeks_median, 'weeks_median', numbers)}; half of the sets took "
                f"between {_weeks(key.weeks_q1, 'weeks_q1', numbers)} and "
                f"{_weeks(key.weeks_q3, 'weeks_q3', numbers)}. {within} ended within the "
                f"{target}-week "
                f"target (95% confidence interval {within_ci})."
            ),
            Table(
                "Share of ended proceedings in which the child went home or to family, by the "
                "mother's history (England and Wales, all years)",
                ("Group", "Home or family", "95% confidence interval", "Ended sets"),
                rows,
                note=(
                    "Wilson 95% intervals. Which court orders count as removal is set in the "
                    "run's configuration ([outcomes]); differences between groups are "
                    "associations, not effects of the history. By region and year: "
                    "outcomes.csv."
                ),
            ),
        ),
    )
