-- linkage.mother_edges_held_back: Splink pairs above the threshold that do not join two records.
-- Purpose: a pair whose forenames are both recorded and disagree entirely (not the same hash,
--   not the same Soundex hash, not swapped with the surname) is held back from clustering:
--   twins and sisters share a surname, an address and (twins) a date of birth, so the other
--   fields cannot tell them apart; on the hard profile half such pairs above the threshold were
--   two women. A woman whose forename was mistyped beyond its Soundex code is still joined by
--   her other records, person ids, children and births.
-- Inputs: linkage.mother_pairs, linkage.mother_records.
-- Parameters: $evidence (list of evidence kinds); $threshold (match probability at or above
--   which a Splink pair would join).
create or replace table linkage.mother_edges_held_back as
select
    p.record_id_l,
    p.record_id_r,
    p.match_probability::double as match_probability
from linkage.mother_pairs as p
inner join linkage.mother_records as l on p.record_id_l = l.record_id
inner join linkage.mother_records as r on p.record_id_r = r.record_id
where
    list_contains($evidence, 'splink')
    and p.match_probability >= $threshold
    and l.forename_hash <> r.forename_hash
    and l.forename_soundex_hash <> r.forename_soundex_hash
    and not coalesce(
        l.forename_soundex_hash = r.surname_soundex_hash
        and l.surname_soundex_hash = r.forename_soundex_hash, false
    )
order by p.record_id_l, p.record_id_r;
