-- linkage.mother_edges: the edges actually used to cluster mother records into women.
-- Purpose: rule-based evidence edges of the chosen kinds, plus Splink pairs at or above the
--   match threshold when Splink evidence is chosen. Connected components of these edges are
--   the mothers (linkage.mother_clusters). A Splink pair whose forenames are both recorded and
--   disagree entirely (not the same hash, not the same Soundex hash, not swapped with the
--   surname) is held back (linkage.mother_edges_held_back): twins and sisters share every other
--   field, and on the hard profile half such pairs above the threshold were two women.
-- Inputs: linkage.mother_evidence, linkage.mother_pairs, linkage.mother_edges_held_back.
-- Parameters: $evidence (list of evidence kinds: person_id, splink, shared_child,
--   maternity_mother); $threshold (match probability at or above which a Splink pair joins).
create or replace table linkage.mother_edges as
with rule_edges as (
    select
        record_id_l,
        record_id_r,
        evidence,
        1.0::double as match_probability
    from linkage.mother_evidence
    where list_contains($evidence, evidence)
),

splink_edges as (
    select
        record_id_l,
        record_id_r,
        'splink' as evidence,
        match_probability::double as match_probability
    from linkage.mother_pairs as p
    where
        list_contains($evidence, 'splink') and match_probability >= $threshold
        and not exists (
            select 1 from linkage.mother_edges_held_back as h
            where h.record_id_l = p.record_id_l and h.record_id_r = p.record_id_r
        )
)

select * from rule_edges
union all
select * from splink_edges
order by record_id_l, record_id_r, evidence;
