-- linkage.mother_evidence: pairs of mother records that deterministic evidence says are one woman.
-- Purpose: the rule-based edges of the mother graph, one row per edge, tagged with its evidence:
--   person_id        the two records share a person_id (the deterministic pass);
--   shared_child     the same child person_id appears in both sets of proceedings;
--   maternity_mother children of the two sets link to births under the same maternity
--                    mother_person_id (the maternity system's own, stable id for her).
--   Each group is joined as a star on its smallest record_id, so edges grow linearly.
-- Inputs: linkage.mother_records, staging.case_people (children), linkage.child_births,
--   linkage.birth_records.
-- Parameters: none.
create or replace table linkage.mother_evidence as
with records as (
    select
        record_id,
        case_id,
        person_id
    from linkage.mother_records
),

grouped as (
    select
        'person_id' as evidence,
        record_id,
        person_id as group_id
    from records
    union all
    select
        'shared_child' as evidence,
        r.record_id,
        k.person_id as group_id
    from staging.case_people as k
    inner join records as r on k.case_id = r.case_id
    where k.role = 'child'
    union all
    select
        'maternity_mother' as evidence,
        r.record_id,
        b.mother_person_id as group_id
    from linkage.child_births as cb
    inner join linkage.birth_records as b on cb.birth_id = b.birth_id
    inner join records as r on cb.case_id = r.case_id
    where b.mother_person_id is not null
),

hubs as (
    select
        evidence,
        group_id,
        min(record_id) as hub
    from grouped
    group by evidence, group_id
    having count(distinct record_id) > 1
)

select distinct
    h.hub as record_id_l,
    g.record_id as record_id_r,
    g.evidence
from grouped as g
inner join hubs as h on g.evidence = h.evidence and g.group_id = h.group_id
where g.record_id <> h.hub
order by record_id_l, record_id_r, g.evidence;
