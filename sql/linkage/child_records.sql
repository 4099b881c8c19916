-- linkage.child_records: one row per child in one set of proceedings, with the mother's fields.
-- Purpose: the care side of the child-to-birth link. The mother's fields come from the mother
--   row of the same case (the first by person_id when a case lists two), so a birth record can
--   be matched on the baby's date of birth and sex plus the mother's name, year-month of birth
--   and postcode district, as the maternity extract records them.
-- Inputs: staging.case_people (role = 'child' and role = 'mother'), staging.cases.
-- Parameters: none.
create or replace table linkage.child_records as
with case_mother as (
    select *
    from staging.case_people
    where role = 'mother'
    qualify row_number() over (partition by case_id order by person_id) = 1
),

children as (
    select
        k.case_id,
        k.person_id,
        k.birth_date as baby_birth_date,
        nullif(k.sex, 'U') as baby_sex,
        c.region_code,
        c.la_code,
        m.birth_year_month as mother_birth_year_month,
        m.forename_hash as mother_forename_hash,
        m.surname_hash as mother_surname_hash,
        m.forename_soundex_hash as mother_forename_soundex_hash,
        m.surname_soundex_hash as mother_surname_soundex_hash,
        m.postcode_district as mother_postcode_district
    from staging.case_people as k
    inner join staging.cases as c on k.case_id = c.case_id
    left join case_mother as m on k.case_id = m.case_id
    where k.role = 'child'
)

select
    case_id || '|' || person_id as record_id,
    case_id,
    person_id,
    baby_birth_date,
    baby_sex,
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
from children
order by record_id;
