-- linkage.eval_child_birth_scores: how well child rows are linked to their true birth records.
-- Purpose: precision, recall and F1 of child-to-birth links for the run ('run') and for an
--   exact-match rule ('exact_rule': same baby date of birth, mother's surname hash and
--   birth year-month, and only one such birth). A link is right when its birth_id is the
--   true one; a child with no true birth should have none.
-- Inputs: linkage.child_births, linkage.child_records, linkage.birth_records,
--   linkage.truth_child_births (case_id, person_id, birth_id).
-- Parameters: none.
create or replace table linkage.eval_child_birth_scores as
with exact_candidates as (
    select
        c.case_id,
        c.person_id,
        b.birth_id
    from linkage.child_records as c
    inner join linkage.birth_records as b
        on
            c.baby_birth_date = b.baby_birth_date
            and c.mother_surname_hash = b.mother_surname_hash
            and c.mother_birth_year_month = b.mother_birth_year_month
    qualify count(*) over (partition by c.case_id, c.person_id) = 1
),

predictions as (
    select
        'run' as method,
        case_id,
        person_id,
        birth_id
    from linkage.child_births
    where birth_id is not null
    union all
    select
        'exact_rule',
        case_id,
        person_id,
        birth_id
    from exact_candidates
),

methods as (
    select * from (values ('run'), ('exact_rule')) as m (method)
),

scored as (
    select
        m.method,
        (
            select count(*) from predictions as p
            where p.method = m.method
        ) as predicted_links,
        (
            select count(*) from linkage.truth_child_births as t
            where t.birth_id is not null
        ) as true_links,
        (
            select count(*)
            from predictions as p
            inner join linkage.truth_child_births as t
                on p.case_id = t.case_id and p.person_id = t.person_id and p.birth_id = t.birth_id
            where p.method = m.method
        ) as correct_links
    from methods as m
)

select
    method,
    predicted_links,
    true_links,
    correct_links,
    correct_links / nullif(predicted_links, 0) as precision,
    correct_links / nullif(true_links, 0) as recall,
    2 * correct_links / nullif(predicted_links + true_links, 0) as f1
from scored
order by method;
