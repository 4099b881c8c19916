-- linkage.mother_records: one row per mother in one set of proceedings, prepared for matching.
-- Purpose: the records the mother model compares. record_id = case_id || '|' || person_id.
--   Adds comparison helpers: bym_index (months since year 0, for "within one month"), birth_year,
--   postcode_area (the letters of the district) and the case's region and authority.
-- Inputs: staging.case_people (role = 'mother'), staging.cases.
-- Parameters: none.
create or replace table linkage.mother_records as
with mothers as (
    select
        p.case_id,
        p.person_id,
        p.birth_year_month,
        p.forename_hash,
        p.surname_hash,
        p.forename_soundex_hash,
        p.surname_soundex_hash,
        p.postcode_district,
        c.issue_date,
        c.region_code,
        c.la_code
    from staging.case_people as p
    inner join staging.cases as c on p.case_id = c.case_id
    where p.role = 'mother'
)

select
    case_id || '|' || person_id as record_id,
    case_id,
    person_id,
    issue_date,
    region_code,
    la_code,
    birth_year_month,
    try_cast(substr(birth_year_month, 1, 4) as integer) * 12
    + try_cast(substr(birth_year_month, 6, 2) as integer) - 1 as bym_index,
    try_cast(substr(birth_year_month, 1, 4) as integer) as birth_year,
    forename_hash,
    surname_hash,
    forename_soundex_hash,
    surname_soundex_hash,
    postcode_district,
    nullif(regexp_extract(upper(postcode_district), '^[A-Z]+'), '') as postcode_area
from mothers
order by record_id;
