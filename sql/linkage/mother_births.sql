-- linkage.mother_births: the maternity births of each mother (mother_key).
-- Purpose: a mother's births before and after her proceedings. A birth is hers when it is
--   the birth record of a child in any of her sets of proceedings (linked_via = 'child'), or
--   when it is recorded under the same maternity mother_person_id as one of those births
--   (linked_via = 'maternity_mother_id': births of babies never in proceedings).
-- Inputs: linkage.mother_keys, linkage.child_births, linkage.birth_records.
-- Parameters: none.
create or replace table linkage.mother_births as
with via_child as (
    select
        k.mother_key,
        cb.birth_id,
        max(cb.match_probability) as match_probability
    from linkage.child_births as cb
    inner join linkage.mother_keys as k on cb.case_id = k.case_id
    where cb.birth_id is not null
    group by k.mother_key, cb.birth_id
),

maternity_ids as (
    select distinct
        v.mother_key,
        b.mother_person_id
    from via_child as v
    inner join linkage.birth_records as b on v.birth_id = b.birth_id
    where b.mother_person_id is not null
),

via_maternity_id as (
    select
        m.mother_key,
        b.birth_id
    from maternity_ids as m
    inner join linkage.birth_records as b on m.mother_person_id = b.mother_person_id
),

combined as (
    select
        mother_key,
        birth_id,
        'child' as linked_via,
        match_probability
    from via_child
    union all
    select
        v.mother_key,
        v.birth_id,
        'maternity_mother_id' as linked_via,
        null as match_probability
    from via_maternity_id as v
    anti join via_child as c on v.mother_key = c.mother_key and v.birth_id = c.birth_id
)

select
    c.mother_key,
    c.birth_id,
    b.baby_birth_date,
    b.region_code,
    c.linked_via,
    c.match_probability
from combined as c
inner join linkage.birth_records as b on c.birth_id = b.birth_id
order by c.mother_key, b.baby_birth_date, c.birth_id;
