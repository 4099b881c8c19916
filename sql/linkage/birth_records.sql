-- linkage.birth_records (a view): one row per live birth in the maternity extract, for matching.
-- Purpose: the maternity side of the child-to-birth link, with the same column names and
--   helpers (bym_index, postcode_area) as linkage.child_records. Births recorded as not live
--   are left out: a child in proceedings was born alive. A view, not a table: births are the
--   largest input (11 million rows nationally) and writing a copy would cost more than the link.
-- Inputs: staging.births.
-- Parameters: none.
create or replace view linkage.birth_records as
select
    birth_id as record_id,
    birth_id,
    mother_person_id,
    baby_birth_date,
    nullif(baby_sex, 'U') as baby_sex,
    region_code,
    la_code,
    mother_birth_year_month,
    try_cast(substr(mother_birth_year_month, 1, 4) as integer) * 12
    + try_cast(substr(mother_birth_year_month, 6, 2) as integer) - 1 as mother_bym_index,
    mother_forename_hash,
    mother_surname_hash,
    mother_forename_soundex_hash,
    mother_surname_soundex_hash,
    mother_postcode_district,
    nullif(regexp_extract(upper(mother_postcode_district), '^[A-Z]+'), '') as mother_postcode_area
from staging.births
where live_birth is distinct from false;
