-- linkage.eval_truth_records: each mother record with the true woman it belongs to.
-- Purpose: ground truth for scoring mother linkage on synthetic data; records whose person_id
--   has no truth row are left out of the scores.
-- Inputs: linkage.mother_records, linkage.truth_mother_person_ids (person_id, true_mother_id).
-- Parameters: none.
create or replace table linkage.eval_truth_records as
select
    r.record_id,
    t.true_mother_id
from linkage.mother_records as r
inner join linkage.truth_mother_person_ids as t on r.person_id = t.person_id
order by r.record_id;
