-- linkage.mother_keys: one row per mother row of case_people, with the woman it belongs to.
-- Purpose: the mother_key of every (case_id, person_id) mother row, and how it was joined.
--   mother_key = 'mk_' + the first 16 hex digits of sha256 of the smallest person_id in the
--   cluster, so it is stable across reruns and independent of row order.
--   link_rule is the strongest edge touching the row: person_id, shared_child,
--   maternity_mother, splink, or alone (nothing joined it); match_probability is the highest
--   Splink probability among its edges (null when no Splink edge joined it).
-- Inputs: linkage.mother_clusters, linkage.mother_records, linkage.mother_edges.
-- Parameters: none.
create or replace table linkage.mother_keys as
with clusters as (
    select
        c.cluster_id,
        r.record_id,
        r.case_id,
        r.person_id
    from linkage.mother_clusters as c
    inner join linkage.mother_records as r on c.record_id = r.record_id
),

keys as (
    select
        cluster_id,
        'mk_' || substr(sha256(min(person_id)), 1, 16) as mother_key,
        count(distinct case_id) as cluster_cases,
        count(distinct person_id) as cluster_person_ids
    from clusters
    group by cluster_id
),

touching as (
    select
        record_id_l as record_id,
        evidence,
        match_probability
    from linkage.mother_edges
    union all
    select
        record_id_r as record_id,
        evidence,
        match_probability
    from linkage.mother_edges
),

strongest as (
    select
        record_id,
        evidence
    from touching
    qualify row_number() over (
        partition by record_id
        order by
            case evidence
                when 'person_id' then 1
                when 'shared_child' then 2
                when 'maternity_mother' then 3
                else 4
            end,
            match_probability desc
    ) = 1
),

best_splink as (
    select
        record_id,
        max(match_probability) as match_probability
    from touching
    where evidence = 'splink'
    group by record_id
)

select
    c.case_id,
    c.person_id,
    k.mother_key,
    coalesce(s.evidence, 'alone') as link_rule,
    round(b.match_probability, 6) as match_probability,
    k.cluster_cases,
    k.cluster_person_ids
from clusters as c
inner join keys as k on c.cluster_id = k.cluster_id
left join strongest as s on c.record_id = s.record_id
left join best_splink as b on c.record_id = b.record_id
order by c.case_id, c.person_id;
