-- linkage.mother_conflicts: pairs of mother records the model says are two women, by forename.
-- Purpose: a scored pair whose forenames are both recorded and disagree entirely (not the same
--   hash, not the same Soundex hash, not swapped with the surname) and whose match probability
--   is below the threshold: the model and the forenames agree that these are two women (twins
--   and sisters share a surname, an address and, twins, a date of birth). Splink edges may not
--   join two such records indirectly, through a third record whose forename is missing or that
--   resembles both (recurrence.linkage.bridges); evidence from person ids and children still may.
-- Inputs: linkage.mother_pairs, linkage.mother_records.
-- Parameters: $threshold (match probability at or above which a Splink pair would join).
create or replace table linkage.mother_conflicts as
select
    p.record_id_l,
    p.record_id_r
from linkage.mother_pairs as p
inner join linkage.mother_records as l on p.record_id_l = l.record_id
inner join linkage.mother_records as r on p.record_id_r = r.record_id
where
    p.match_probability < $threshold
    and l.forename_hash <> r.forename_hash
    and l.forename_soundex_hash <> r.forename_soundex_hash
    and not coalesce(
        l.forename_soundex_hash = r.surname_soundex_hash
        and l.surname_soundex_hash = r.forename_soundex_hash, false
    )
order by p.record_id_l, p.record_id_r;
