-- linkage.eval_mother_birth_scores: how well mothers' births are found.
-- Purpose: precision, recall and F1 over (mother record, birth) pairs: a pair is true when the
--   record's woman is the birth's mother, predicted when the record's mother_key has the
--   birth in linkage.mother_births.
-- Inputs: linkage.mother_keys, linkage.mother_records, linkage.mother_births,
--   linkage.eval_truth_records, linkage.truth_birth_mothers (birth_id, true_mother_id).
-- Parameters: none.
create or replace table linkage.eval_mother_birth_scores as
with predicted as (
    select distinct
        r.record_id,
        mb.birth_id
    from linkage.mother_keys as k
    inner join linkage.mother_records as r on k.case_id = r.case_id and k.person_id = r.person_id
    inner join linkage.mother_births as mb on k.mother_key = mb.mother_key
    inner join linkage.eval_truth_records as e on r.record_id = e.record_id
),

truth as (
    select distinct
        e.record_id,
        b.birth_id
    from linkage.eval_truth_records as e
    inner join linkage.truth_birth_mothers as b on e.true_mother_id = b.true_mother_id
),

counts as (
    select
        (select count(*) from predicted) as predicted_links,
        (select count(*) from truth) as true_links,
        (
            select count(*) from predicted as p
            inner join truth as t on p.record_id = t.record_id and p.birth_id = t.birth_id
        ) as correct_links
)

select
    'run' as method,
    predicted_links,
    true_links,
    correct_links,
    correct_links / nullif(predicted_links, 0) as precision,
    correct_links / nullif(true_links, 0) as recall,
    2 * correct_links / nullif(predicted_links + true_links, 0) as f1
from counts;
