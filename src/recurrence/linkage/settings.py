"""Splink comparisons, blocking rules, training rules and thresholds, as named constants.

Two models are defined here:

* **mothers** (``dedupe_only``): one record per mother row of ``case_people`` (one woman in one
  set of proceedings), compared on her coarsened date of birth, hashed names and their Soundex
  hashes, and where she lived;
* **child_births** (``link_only``): children in proceedings against maternity birth records, on the
  baby's date of birth and sex plus the mother's fields (taken from the mother in the same case).

Every comparison is built from columns that may be missing: a comparison or blocking rule whose
columns are entirely null in the data is left out (see :func:`mother_settings`), so a field that
was never supplied lowers recall but never breaks the run.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from splink import SettingsCreator, block_on
from splink import comparison_level_library as cll
from splink import comparison_library as cl
from splink.blocking_rule_library import CustomRule

if TYPE_CHECKING:  # Splink's creator classes are internal; used for annotations only
    from splink.internals.blocking_rule_creator import BlockingRuleCreator
    from splink.internals.comparison_creator import ComparisonCreator
    from splink.internals.comparison_level_creator import ComparisonLevelCreator

# --- thresholds and sample sizes ------------------------------------------------------------------
#: Pairs scored below this match probability are not kept (they never join two records).
PREDICT_FLOOR = 0.01
#: Lowest threshold a rule may choose: below it a pair is more likely two women than one.
THRESHOLD_FLOOR = 0.5
#: Rules for choosing the mothers' threshold (``linkage.mother_threshold_rule``).
THRESHOLD_RULES: tuple[str, ...] = ("expected_precision", "fixed")
#: Pairs sampled for the clerical review export.
CLERICAL_SAMPLE_SIZE = 500
#: Half-width, in match-weight units (log2 Bayes factor), of the band around the threshold from
#: which clerical pairs are drawn: 3 is a Bayes factor of 8 either side.
CLERICAL_WEIGHT_BAND = 3.0
#: Pairs sampled at random to estimate u probabilities.
U_MAX_PAIRS = 2e6
#: Largest number of blocked pairs used in one EM session (hash-sampled, so reproducible).
EM_MAX_PAIRS = 1e6
#: Assumed recall of the deterministic rules used to estimate the prior match probability. For
#: mothers it is used only when too few record pairs share a person id to estimate it
#: (:func:`recurrence.linkage.blocking.estimated_prior_recall`).
MOTHER_PRIOR_RECALL = 0.7
#: Fewest pairs sharing a person id from which the mother prior rule's recall is estimated.
PRIOR_RECALL_MIN_PAIRS = 50
#: Lowest estimated recall used (a smaller one would make the prior implausibly large).
PRIOR_RECALL_FLOOR = 0.05
CHILD_BIRTH_PRIOR_RECALL = 0.8
#: Largest plausible gap, in days, between a child's recorded date of birth and its birth record's.
BABY_DOB_NEAR_DAYS = 7
#: Share of children's dates of birth falling on a Monday from which the care side is taken to
#: record the week of birth (SAIL's WEEKOFBIRTH, the Monday starting the week), not the date:
#: about 1 in 7 does when dates are exact.
WEEK_OF_BIRTH_SHARE = 0.9
#: Fewest children's dates of birth from which their precision is judged.
WEEK_OF_BIRTH_MIN_DATES = 20
#: Chunks per side for prediction (1: national-scale prediction fits easily in memory).
PREDICT_CHUNKS = 1

# --- sources of evidence that two mother records are the same woman ------------------------------
EVIDENCE_PERSON_ID = "person_id"
EVIDENCE_SPLINK = "splink"
EVIDENCE_SHARED_CHILD = "shared_child"
EVIDENCE_MATERNITY_MOTHER = "maternity_mother"
ALL_EVIDENCE: tuple[str, ...] = (
    EVIDENCE_PERSON_ID,
    EVIDENCE_SPLINK,
    EVIDENCE_SHARED_CHILD,
    EVIDENCE_MATERNITY_MOTHER,
)
PERSON_ID_EVIDENCE: tuple[str, ...] = (EVIDENCE_PERSON_ID,)

#: Fields the mother model can use; at least one of them must be present for Splink to run.
MOTHER_FIELDS: tuple[str, ...] = (
    "birth_year_month",
    "forename_hash",
    "surname_hash",
    "forename_soundex_hash",
    "surname_soundex_hash",
    "postcode_district",
)
#: Without at least one of these, names and date of birth are all missing: person ids only.
MOTHER_IDENTIFYING_FIELDS: tuple[str, ...] = (
    "birth_year_month",
    "forename_hash",
    "surname_hash",
)
#: Columns both sides of the child-to-birth link share (Splink needs the same columns).
CHILD_BIRTH_COLUMNS: tuple[str, ...] = (
    "record_id",
    "baby_birth_date",
    "baby_sex",
    "region_code",
    "la_code",
    "mother_birth_year_month",
    "mother_bym_index",
    "mother_forename_hash",
    "mother_surname_hash",
    "mother_forename_soundex_hash",
    "mother_surname_soundex_hash",
    "mother_postcode_district",
    "mother_postcode_area",
)


@dataclass(frozen=True)
class Rule:
    """A blocking rule on named columns, kept as column names so it can be filtered.

    ``condition`` is empty for a rule of equal columns (``block_on``); otherwise it is the rule's
    SQL on ``l.`` and ``r.`` (e.g. forename and surname swapped) and ``columns`` names every
    column it reads.
    """

    columns: tuple[str, ...]
    condition: str = ""
    name: str = ""

    def creator(self) -> BlockingRuleCreator:
        """Return the Splink blocking rule."""
        if self.condition:
            return CustomRule(self.condition)
        return block_on(*self.columns)

    def sql(self) -> str:
        """The rule as a SQL condition on aliases ``l`` and ``r`` (false where a column is null)."""
        if self.condition:
            return f"({self.condition})"
        return "(" + " and ".join(f'l."{c}" = r."{c}"' for c in self.columns) + ")"

    @property
    def label(self) -> str:
        """A short name for reports: the given name, the condition, or the columns."""
        return self.name or self.condition or ", ".join(self.columns)


def _rule(*columns: str) -> Rule:
    return Rule(tuple(columns))


def _one_missing(columns: tuple[str, ...], missing: str) -> Rule:
    # Equal on ``columns`` where ``missing`` is null on either side: a rule on a date of birth
    # cannot compare a record that has none, and without the date the names alone would pair
    # every woman of a common name (so this is bounded by where she lives as well).
    equal = " and ".join(f'l."{c}" = r."{c}"' for c in columns)
    return Rule(
        (*columns, missing),
        f'{equal} and (l."{missing}" is null or r."{missing}" is null)',
        name=f"{', '.join(columns)}, one {missing} missing",
    )


def _swapped(forename: str, surname: str, also: str) -> Rule:
    return Rule(
        (forename, surname, also),
        f'l."{forename}" = r."{surname}" and l."{surname}" = r."{forename}" '
        f'and l."{also}" = r."{also}"',
        name=f"{forename} and {surname} swapped, {also}",
    )


# Prediction blocking for mothers. Each rule keeps blocks small (year-month of birth has ~400
# values, a Soundex code ~1,000), so comparisons grow near-linearly with records; together they
# catch a surname change (rules 2, 4), a move (1-3), a month out (3, 5) and a missing date of
# birth (5). Forename and surname alone would be quadratic: common names form huge blocks.
# Rules 6-17 (issue 19) each survive an error the first five do not; recall added (true pairs)
# and pairs each costs, added in this order on the sample (default / hard profile), are in
# benchmarks/RESULTS.md ("Blocking that survives one error"). A rule was kept when it added
# true pairs on the hard profile at under ~150 compared pairs per true pair found;
# rules 14-17 also on a second seed and at 10% of national volume.
MOTHER_BLOCKING: tuple[Rule, ...] = (
    _rule("birth_year_month", "surname_soundex_hash"),
    _rule("birth_year_month", "forename_soundex_hash"),
    _rule("forename_hash", "surname_hash", "birth_year"),
    _rule("birth_year_month", "postcode_district"),
    _rule("forename_soundex_hash", "surname_soundex_hash", "postcode_area"),
    # 6: forename and surname swapped (Soundex, so a typo that keeps the code survives too),
    # within the region: unbounded, the swapped rows of common names paired with every woman of
    # that name (at 10% of national volume, hard profile: 63,383 pairs for 233 true pairs; with
    # the region 7,292 for 196)
    _swapped("forename_soundex_hash", "surname_soundex_hash", "region_code"),
    # 7, 8: date of birth wrong or missing and one name mistyped, still at the same address
    _rule("forename_hash", "postcode_district"),
    _rule("surname_hash", "postcode_district"),
    # 9: the same full name where one date of birth is missing (a move as well), within the
    # region (at 10% of national volume: default 471 pairs for 23 true pairs, hard 3,808 for 34;
    # without the region 4,842 for 35 and 38,088 for 61)
    Rule(
        ("forename_hash", "surname_hash", "bym_index", "region_code"),
        'l."forename_hash" = r."forename_hash" and l."surname_hash" = r."surname_hash" '
        'and l."region_code" = r."region_code" '
        'and (l."bym_index" is null or r."bym_index" is null)',
        name="forename_hash, surname_hash, region_code, one bym_index missing",
    ),
    # 10: a date error and a typo that keeps both Soundex codes, after a move within the area
    _rule("forename_soundex_hash", "surname_soundex_hash", "la_code"),
    # 11-13: both names mistyped, with the year (or year-month) and where she lives
    _rule("birth_year", "postcode_district"),
    _rule("birth_year", "surname_soundex_hash", "la_code"),
    _rule("bym_index", "la_code"),
    # 14-16: rules 7, 8 and 9 on Soundex hashes, so a typo that keeps the code no longer
    # defeats them (a name with the same hash has the same Soundex hash, so each finds every
    # pair of its exact-hash rule; those stay, for data without Soundex hashes). Rule 3 on
    # Soundex hashes was left out: at 10% of national volume, hard profile, it found 34 true
    # pairs for 6,003 compared pairs.
    _rule("forename_soundex_hash", "postcode_district"),
    _rule("surname_soundex_hash", "postcode_district"),
    _one_missing(("forename_soundex_hash", "surname_soundex_hash", "region_code"), "bym_index"),
    # 17: the surname changed or mistyped beyond its code, a date error, within the authority
    # (rule 12 with the names' roles exchanged). Tried and left out: (forename, authority) where
    # one date of birth is missing - on the hard profile at 10% of national volume it found 28
    # true pairs for 7,914 compared pairs, and a forename's block in an authority grows with the
    # square of the data
    _rule("forename_soundex_hash", "birth_year", "la_code"),
)
# Pairs these rules find are taken as almost certain matches when estimating the prior.
MOTHER_PRIOR_RULES: tuple[Rule, ...] = (_rule("forename_hash", "surname_hash", "birth_year_month"),)
# Two EM sessions with different blocking, so every comparison gets an m estimate from one.
# The names session blocks on year-month and postcode district, not area: at national scale a
# (year-month, area) block is mostly strangers who share a place, and EM then learns "same
# place" as the match class (forename exact-match m fell to 0.08; Splink-alone F1 0.959). With
# district the block holds enough true pairs: m 0.63, F1 0.981 (benchmarks/RESULTS.md).
# Year-month as bym_index, for the reason given at CHILD_BIRTH_BLOCKING below.
MOTHER_EM_RULES: tuple[Rule, ...] = (
    _rule("bym_index", "postcode_district"),
    _rule("forename_hash", "surname_hash"),
)

# Candidate pairs grow with children x births per block, so with the square of the volume: every
# rule pairs the baby's date of birth with enough of the mother's fields that a block holds about
# one birth even nationally (1.2 million pairs for 346,000 children and 11 million births), yet
# each true pair agrees on at least one rule unless several fields are damaged at once. Nationally
# these rules block all but 37 of 261,651 true child-birth pairs; the earlier four rules, each on
# the date of birth and one field, blocked 8 more but made 12.3 million pairs, and time grew 5.7
# times from 30% to 100% of national scale (benchmarks/RESULTS.md, "Near-linear linkage").
# Rules on year-month use the integer bym_index, which splits records exactly as the text
# does, because Splink leaves a comparison out of an EM session only when the session's rule
# names a column the comparison reads, and the year-month comparison reads bym_index: on the
# text, a session of pairs chosen for agreeing on year-month would also "learn" that matches
# always agree on it.
CHILD_BIRTH_BLOCKING: tuple[Rule, ...] = (
    _rule("baby_birth_date", "mother_postcode_district"),
    _rule("baby_birth_date", "mother_bym_index", "region_code"),
    _rule("baby_birth_date", "mother_bym_index", "mother_forename_soundex_hash"),
    _rule("baby_birth_date", "mother_bym_index", "mother_surname_soundex_hash"),
    _rule("baby_birth_date", "mother_forename_soundex_hash", "mother_surname_soundex_hash"),
    _rule("baby_birth_date", "mother_surname_soundex_hash", "la_code"),
    _rule("baby_birth_date", "mother_forename_soundex_hash", "la_code"),
)
CHILD_BIRTH_PRIOR_RULES: tuple[Rule, ...] = (
    _rule("baby_birth_date", "mother_surname_hash", "mother_birth_year_month"),
)
# Every child-birth rule includes the baby's date of birth: the record being linked is the baby,
# and most fields describe the mother, so a rule on the mother alone would pull in siblings.
# For the same reason the date-of-birth m probabilities are fixed (BABY_DOB_M), not estimated.
# EM rules in order of preference (see em_sessions): with every field present the first trains
# names, year-month and sex, the second names, place and sex; the rest stand in when a field is
# missing from the data. All are prediction rules too, so narrowing the births to those in a
# blocked pair (model.narrow_to_blocked) leaves their pairs unchanged; none is as coarse as
# (date of birth, region), which would keep almost every birth.
CHILD_BIRTH_EM_RULES: tuple[Rule, ...] = (
    _rule("baby_birth_date", "mother_postcode_district"),
    _rule("baby_birth_date", "mother_bym_index", "mother_surname_soundex_hash"),
    _rule("baby_birth_date", "mother_bym_index", "region_code"),
    _rule("baby_birth_date", "mother_forename_soundex_hash", "mother_surname_soundex_hash"),
    _rule("baby_birth_date", "mother_bym_index", "mother_forename_soundex_hash"),
)
#: m probabilities of the baby date-of-birth levels (exact, within BABY_DOB_NEAR_DAYS, other):
#: dates of birth are recorded near-perfectly on both sides.
BABY_DOB_M: tuple[float, float, float] = (0.97, 0.025, 0.005)


def _name(
    col: str, soundex_col: str, other_col: str | None, label: str, *, errors: bool = False
) -> ComparisonCreator:
    # errors=True (mothers, issue 19) adds term frequencies to the Soundex level and a level for
    # names swapped with a typo that keeps both Soundex codes. The child-to-birth model keeps
    # the plain levels: its F1 is 0.998 and it runs on every birth nationally.
    levels: list[ComparisonLevelCreator] = [
        cll.NullLevel(col),
        cll.ExactMatchLevel(col, term_frequency_adjustments=True),
    ]
    if other_col is not None:
        levels.append(
            cll.CustomLevel(
                f'"{col}_l" = "{other_col}_r" and "{other_col}_l" = "{col}_r"',
                label_for_charts="forename and surname swapped",
            )
        )
    # Soundex hashes are keyed like the names, so they keep name frequencies: a shared Soundex
    # code of a common name is weaker evidence than a rare one's (term frequencies, as exact).
    levels.append(
        cll.ExactMatchLevel(soundex_col, term_frequency_adjustments=True).configure(
            label_for_charts="same Soundex"
        )
        if errors
        else cll.CustomLevel(
            f'"{soundex_col}_l" = "{soundex_col}_r"', label_for_charts="same Soundex"
        )
    )
    if other_col is not None and errors:
        other_sdx = other_col.replace("_hash", "_soundex_hash")
        levels.append(
            cll.CustomLevel(
                f'"{soundex_col}_l" = "{other_sdx}_r" and "{other_sdx}_l" = "{soundex_col}_r"',
                label_for_charts="forename and surname swapped, same Soundex",
            )
        )
    levels.append(cll.ElseLevel())
    return cl.CustomComparison(levels, output_column_name=label)


def _year_month(prefix: str, *, errors: bool = False) -> ComparisonCreator:
    col = f"{prefix}bym_index"
    diff = f'abs("{col}_l" - "{col}_r")'
    digit = [
        # a year digit wrong, or the year one out: the month agrees, the year does not
        cll.CustomLevel(
            f'"{col}_l" % 12 = "{col}_r" % 12 and {diff} <= 120',
            label_for_charts="same month, year within ten",
        )
    ]
    return cl.CustomComparison(
        [
            cll.NullLevel(col),
            cll.CustomLevel(f"{diff} = 0", label_for_charts="same year-month"),
            cll.CustomLevel(f"{diff} <= 1", label_for_charts="within one month"),
            cll.CustomLevel(f"{diff} <= 12", label_for_charts="within a year"),
            *(digit if errors else []),
            cll.ElseLevel(),
        ],
        output_column_name=f"{prefix}birth_year_month",
    )


def _place(prefix: str) -> ComparisonCreator:
    # Hierarchical: district, then local authority, then postcode area, then region. Region is
    # always present, so a missing district falls through to the coarser levels, not to null.
    district, area = f"{prefix}postcode_district", f"{prefix}postcode_area"
    return cl.CustomComparison(
        [
            cll.ExactMatchLevel(district),
            cll.CustomLevel('"la_code_l" = "la_code_r"', label_for_charts="same authority"),
            cll.CustomLevel(f'"{area}_l" = "{area}_r"', label_for_charts="same postcode area"),
            cll.CustomLevel('"region_code_l" = "region_code_r"', label_for_charts="same region"),
            cll.ElseLevel(),
        ],
        output_column_name=f"{prefix}place",
    )


def _baby_dob() -> ComparisonCreator:
    diff = 'abs(date_diff(\'day\', "baby_birth_date_l", "baby_birth_date_r"))'
    return cl.CustomComparison(
        [
            cll.NullLevel("baby_birth_date"),
            cll.ExactMatchLevel("baby_birth_date").configure(
                m_probability=BABY_DOB_M[0], fix_m_probability=True
            ),
            cll.CustomLevel(
                f"{diff} <= {BABY_DOB_NEAR_DAYS}",
                label_for_charts=f"within {BABY_DOB_NEAR_DAYS} days",
            ).configure(m_probability=BABY_DOB_M[1], fix_m_probability=True),
            cll.ElseLevel().configure(m_probability=BABY_DOB_M[2], fix_m_probability=True),
        ],
        output_column_name="baby_birth_date",
    )


def usable_rules(rules: Sequence[Rule], available: Collection[str]) -> list[Rule]:
    """Return the rules whose every column is in ``available`` (has at least one value)."""
    return [r for r in rules if all(c in available for c in r.columns)]


def comparison_columns(settings: SettingsCreator) -> dict[str, set[str]]:
    """Columns each estimated comparison reads, by output name (fixed comparisons left out)."""
    out: dict[str, set[str]] = {}
    for comparison in settings.create_settings_dict("duckdb")["comparisons"]:
        levels = comparison["comparison_levels"]
        if all(lvl.get("fix_m_probability") or lvl.get("is_null_level") for lvl in levels):
            continue
        out[comparison["output_column_name"]] = {
            name for lvl in levels for name in re.findall(r"(\w+)_[lr]\b", lvl["sql_condition"])
        }
    return out


def em_sessions(
    settings: SettingsCreator, preference: Sequence[Rule], available: Collection[str]
) -> list[Rule]:
    """The EM rules to run: for each comparison, the first usable rule blocking none of its columns.

    Splink leaves a comparison out of an EM session whose blocking rule uses one of its columns,
    so each comparison needs a session blocked on other columns. Rules are taken from
    ``preference`` in order, only as many as needed, so a field missing from the data brings in
    a stand-in rule rather than leaving comparisons with Splink's default m probabilities.
    """
    usable = usable_rules(preference, available)
    chosen: set[Rule] = set()
    for columns in comparison_columns(settings).values():
        rule = next((r for r in usable if not columns & set(r.columns)), None)
        if rule is not None:
            chosen.add(rule)
    return [r for r in usable if r in chosen]


def mother_comparisons(available: Collection[str]) -> list[ComparisonCreator]:
    """Comparisons for the mother model, leaving out those on columns with no values at all.

    Parameters
    ----------
    available
        Columns of ``linkage.mother_records`` that hold at least one non-null value.
    """
    comparisons: list[ComparisonCreator] = []
    if "forename_hash" in available:
        other = "surname_hash" if "surname_hash" in available else None
        comparisons.append(
            _name("forename_hash", "forename_soundex_hash", other, "forename", errors=True)
        )
    if "surname_hash" in available:
        comparisons.append(
            _name("surname_hash", "surname_soundex_hash", None, "surname", errors=True)
        )
    if "bym_index" in available:
        comparisons.append(_year_month("", errors=True))
    comparisons.append(_place(""))
    return comparisons


def mother_settings(available: Collection[str]) -> SettingsCreator:
    """Splink settings for de-duplicating mother records across proceedings.

    Parameters
    ----------
    available
        Columns of ``linkage.mother_records`` holding at least one value; comparisons and
        blocking rules on other columns are dropped.

    Returns
    -------
    SettingsCreator
        ``dedupe_only`` settings keyed on ``record_id``.
    """
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=mother_comparisons(available),
        blocking_rules_to_generate_predictions=[
            r.creator() for r in usable_rules(MOTHER_BLOCKING, available)
        ],
        additional_columns_to_retain=["person_id", "case_id"],
        retain_intermediate_calculation_columns=False,
        linker_uid="mothers",  # fixed, not random, so the saved model is identical on rerun
    )


def child_birth_settings(available: Collection[str]) -> SettingsCreator:
    """Splink settings for linking children in proceedings to maternity birth records.

    Parameters
    ----------
    available
        Columns holding at least one value on both sides (child records and birth records).

    Returns
    -------
    SettingsCreator
        ``link_only`` settings keyed on ``record_id``.
    """
    comparisons: list[ComparisonCreator] = [_baby_dob()]
    if "baby_sex" in available:
        comparisons.append(cl.ExactMatch("baby_sex"))
    if "mother_forename_hash" in available:
        other = "mother_surname_hash" if "mother_surname_hash" in available else None
        comparisons.append(
            _name("mother_forename_hash", "mother_forename_soundex_hash", other, "mother_forename")
        )
    if "mother_surname_hash" in available:
        comparisons.append(
            _name("mother_surname_hash", "mother_surname_soundex_hash", None, "mother_surname")
        )
    if "mother_bym_index" in available:
        comparisons.append(_year_month("mother_"))
    comparisons.append(_place("mother_"))
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="record_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            r.creator() for r in usable_rules(CHILD_BIRTH_BLOCKING, available)
        ],
        retain_intermediate_calculation_columns=False,
        linker_uid="child_births",
    )
