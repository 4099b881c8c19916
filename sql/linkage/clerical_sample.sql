-- linkage.clerical_sample: mother pairs near the match threshold, for clerical review.
-- Purpose: a reproducible sample (ordered by a hash of the pair) of Splink pairs whose match
--   weight lies within a band around the threshold's weight, with their comparison vectors
--   (gamma_*), the hashed and coarsened fields compared (_l, _r) and the pseudonymised
--   record ids, so a reviewer can label them. No other identifiers are included.
-- Inputs: linkage.mother_pairs.
-- Parameters: $weight_low, $weight_high (match-weight band); $sample_size (pairs to keep).
create or replace table linkage.clerical_sample as
select
    md5(record_id_l || '~' || record_id_r) as pair_hash,
    * exclude (case_id_l, case_id_r, person_id_l, person_id_r)
from linkage.mother_pairs
where match_weight between $weight_low and $weight_high
order by pair_hash
limit $sample_size;
