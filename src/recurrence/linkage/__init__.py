"""Linkage: mothers across proceedings, and children and mothers to maternity records.

The public API is the handful of names below. Typical use, after ingest::

    child = link_children_to_births(con, config.linkage)
    mothers = link_mothers(con, config.linkage)
    link_mothers_to_births(con)
    summarise_linkage(con)
"""

from recurrence.linkage.evaluate import (
    LinkageEvaluation,
    evaluate_linkage,
    export_clerical_sample,
)
from recurrence.linkage.maternity import (
    ChildBirthLinkage,
    link_children_to_births,
    link_mothers_to_births,
    summarise_linkage,
)
from recurrence.linkage.mothers import MotherLinkage, cluster_mothers, link_mothers

__all__ = [
    "ChildBirthLinkage",
    "LinkageEvaluation",
    "MotherLinkage",
    "cluster_mothers",
    "evaluate_linkage",
    "export_clerical_sample",
    "link_children_to_births",
    "link_mothers",
    "link_mothers_to_births",
    "summarise_linkage",
]
