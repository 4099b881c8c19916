-- linkage.child_births: one row per child in one set of proceedings, with its birth record.
-- Purpose: each child row of case_people with the single best-scoring maternity birth at or
--   above the match threshold whose baby date of birth is within $max_days days of the child's
--   (birth_id null when none). A birth may serve several child rows (the same child in several
--   sets, possibly under different person_ids); rows sharing a child person_id share its birth.
-- Inputs: linkage.child_records, linkage.child_birth_pairs (Splink pairs; the side whose
--   source_dataset is 'children' is the child).
-- Parameters: $threshold (match probability at or above which a pair may link); $max_days.
create or replace table linkage.child_births as
with pairs as (
    select
        case when source_dataset_l = 'children' then record_id_l else record_id_r end
            as child_record_id,
        case when source_dataset_l = 'children' then record_id_r else record_id_l end
            as birth_id,
        match_probability,
        match_weight
    from linkage.child_birth_pairs
    where
        match_probability >= $threshold
        and abs(date_diff('day', baby_birth_date_l, baby_birth_date_r)) <= $max_days
),

-- One child person_id is one child (the deterministic pass), so all its rows share the best
-- birth found for any of them.
best as (
    select
        c.person_id,
        p.birth_id,
        p.match_probability
    from pairs as p
    inner join linkage.child_records as c on p.child_record_id = c.record_id
    qualify row_number() over (
        partition by c.person_id order by p.match_weight desc, p.birth_id
    ) = 1
)

select
    c.case_id,
    c.person_id,
    b.birth_id,
    round(b.match_probability, 6) as match_probability
from linkage.child_records as c
left join best as b on c.person_id = b.person_id
order by c.case_id, c.person_id;
