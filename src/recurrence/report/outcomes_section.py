"""The report's section on how proceedings end, from ``published.outcomes`` only."""

from __future__ import annotations

from recurrence.outcomes import key_outcome_figures
from recurrence.outcomes.figures import Figure
from recurrence.report.content import Paragraph, Section, Table, count, interval, pct
from recurrence.report.inputs import ReportInputs

OUTCOMES_TABLE = "published.outcomes"

#: Plain-English names of the mother's-history groups of the published table.
GROUP_NAMES: dict[str, str] = {
    "index": "Mother's first set of proceedings in the data",
    "returning": "Mother returning after earlier proceedings",
    "no_mother_recorded": "No mother recorded in the proceedings",
    "previous_removal": "An earlier set ended in removal",
    "no_previous_removal": "No earlier set ended in removal",
}


def _share(figure: Figure, symbol: str) -> tuple[str, str, str]:
    """Share, interval and 'n of N' of one released proportion, hidden parts as the symbol."""
    limits = (
        interval(pct(figure.ci_lower, symbol), pct(figure.ci_upper, symbol))
        if figure.value is not None
        else symbol
    )
    return pct(figure.value, symbol), limits, count(figure.denominator, symbol)


def _weeks(figure: Figure, symbol: str) -> str:
    # Always with its unit: the leak search treats a number followed by "weeks" as a duration.
    return symbol if figure.value is None else f"{figure.value:.1f} weeks"


def outcomes_section(inputs: ReportInputs) -> Section | None:
    """How care proceedings ended, for whom, and how long they took (England and Wales)."""
    published = inputs.tables.get(OUTCOMES_TABLE)
    if published is None or published.is_empty():
        return None
    symbol = inputs.config.disclosure.symbol
    target = inputs.config.outcomes.target_weeks
    key = key_outcome_figures(published)
    home, home_ci, ended = _share(key.home, symbol)
    removal, removal_ci, _ = _share(key.removal, symbol)
    within, within_ci, _ = _share(key.within_target, symbol)
    rows = tuple(
        (GROUP_NAMES.get(group, group.replace("_", " ")), *_share(figure, symbol))
        for group, figure in key.home_by_group.items()
    )
    return Section(
        "outcomes",
        "How proceedings end",
        (
            Paragraph(
                f"Of the {ended} sets of care proceedings in England and Wales that had ended, "
                f"{home} ended with the child at home or with family ({home_ci}) and {removal} "
                f"with the child removed by a care or placement order ({removal_ci}). Sets "
                "still open at the extract's end date are counted apart as ongoing."
            ),
            Paragraph(
                f"Time from issue to final hearing: median {_weeks(key.weeks_median, symbol)}; "
                f"half of the sets took between {_weeks(key.weeks_q1, symbol)} and "
                f"{_weeks(key.weeks_q3, symbol)}. {within} ended within the {target}-week "
                f"target ({within_ci})."
            ),
            Table(
                "Share of ended proceedings in which the child went home or to family, by the "
                "mother's history (England and Wales, all years)",
                ("Group", "Home or family", "95% interval", "Ended sets"),
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
