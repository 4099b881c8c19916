-- linkage.mother_edges: the edges actually used to cluster mother records into women.
-- Purpose: rule-based evidence edges of the chosen kinds, plus Splink pairs at or above the
--   match threshold when Splink evidence is chosen. Connected components of these edges are
--   the mothers (linkage.mother_clusters).
-- Inputs: linkage.mother_evidence, linkage.mother_pairs.
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
    from linkage.mother_pairs
    where list_contains($evidence, 'splink') and match_probability >= $threshold
)

select * from rule_edges
union all
select * from splink_edges
order by record_id_l, record_id_r, evidence;
