-- linkage.summary: counts, linkage rates and missing fields of the linkage stage, long format.
-- Purpose: one row per (measure, breakdown, category). breakdown is 'all', 'region' (the
--   case's region; for births the mother's region of residence), 'year' (calendar year of
--   the case's issue date; for births, of the birth) or 'mother_age' (the mother's age at the
--   case's issue date, at her first set for mothers, in the recurrence cohort's bands).
--   rate = numerator / denominator.
--   Measures:
--     mother_records              mother rows of case_people (numerator only)
--     mother_person_ids           distinct mother person_ids (numerator only)
--     mother_keys                 distinct mothers after linkage (numerator only)
--     mothers_with_several_ids    mothers whose records carry more than one person_id
--     child_linked_to_birth       children born within the maternity extract's dates whose
--                                 row links to a birth record
--     mother_linked_to_births     mothers with at least one linked birth
--     missing_<field>             records lacking the field; breakdown names the records
--                                 (mother_records, child_records, birth_records)
-- Inputs: linkage.mother_records, linkage.mother_keys, linkage.child_records,
--   linkage.child_births, linkage.birth_records, linkage.mother_births, staging.cases.
-- Parameters: none.
create or replace table linkage.summary as
with births_window as (
    select
        min(baby_birth_date) as first_birth,
        max(baby_birth_date) as last_birth
    from linkage.birth_records
),

-- The recurrence cohort's age bands (sql/recurrence/cohort.sql); no band is 'unknown'.
age_bands as (
    select *
    from (
        values ('under 20', 0, 20), ('20-24', 20, 25), ('25-29', 25, 30), ('30-34', 30, 35),
        ('35+', 35, 1000)
    ) as v (age_group, low, high)
),

mothers as (
    select
        k.mother_key,
        r.person_id,
        r.region_code,
        r.issue_date,
        r.birth_year_month
    from linkage.mother_keys as k
    inner join linkage.mother_records as r on k.case_id = r.case_id and k.person_id = r.person_id
),

first_case as (
    select
        mother_key,
        arg_min(region_code, issue_date) as region_code,
        year(min(issue_date)) as issue_year,
        min(issue_date) as issue_date,
        arg_min(birth_year_month, issue_date) as birth_year_month,
        count(distinct person_id) > 1 as several_ids
    from mothers
    group by mother_key
),

-- One row per mother (at her first set) and per child born within the maternity extract's
-- dates, with whether it linked, its region and year, and the mother's age in whole years at
-- the issue date, from the middle of her month of birth (as the cohort).
units as (
    select
        'mother_linked_to_births' as measure,
        f.region_code,
        f.issue_year,
        f.mother_key in (select mb.mother_key from linkage.mother_births as mb) as linked,
        f.birth_year_month,
        f.issue_date
    from first_case as f
    union all
    select
        'child_linked_to_birth',
        c.region_code,
        year(s.issue_date),
        cb.birth_id is not null,
        c.mother_birth_year_month,
        s.issue_date
    from linkage.child_records as c
    inner join staging.cases as s on c.case_id = s.case_id
    inner join linkage.child_births as cb on c.case_id = cb.case_id and c.person_id = cb.person_id
    cross join births_window as w
    where c.baby_birth_date between w.first_birth and w.last_birth
),

banded as (
    select
        u.*,
        coalesce(a.age_group, 'unknown') as age_group
    from units as u
    left join age_bands as a
        on date_sub(
            'month', cast(strptime(u.birth_year_month || '-15', '%Y-%m-%d') as date), u.issue_date
        ) // 12 between a.low and a.high - 1
),

counts as (
    select
        'mother_records' as measure,
        'all' as breakdown,
        'all' as category,
        count(*) as numerator,
        null::bigint as denominator
    from linkage.mother_records
    union all
    select 'mother_person_ids', 'all', 'all', count(distinct person_id), null
    from linkage.mother_records
    union all
    select 'mother_keys', 'all', 'all', count(distinct mother_key), null
    from linkage.mother_keys
),

rates as (
    select
        'mothers_with_several_ids' as measure,
        'all' as breakdown,
        'all' as category,
        count(*) filter (where several_ids) as numerator,
        count(*) as denominator
    from first_case
    union all
    select
        u.measure,
        b.breakdown,
        b.category,
        count(*) filter (where u.linked),
        count(*)
    from banded as u
    cross join lateral (
        select
            'all' as breakdown,
            'all' as category
        union all select 'region', u.region_code
        union all select 'year', u.issue_year::varchar
        union all select 'mother_age', u.age_group
    ) as b
    group by u.measure, b.breakdown, b.category
),

mother_missing as (
    unpivot (
        select
            count(*) - count(birth_year_month) as birth_year_month,
            count(*) - count(forename_hash) as forename_hash,
            count(*) - count(surname_hash) as surname_hash,
            count(*) - count(forename_soundex_hash) as forename_soundex_hash,
            count(*) - count(surname_soundex_hash) as surname_soundex_hash,
            count(*) - count(postcode_district) as postcode_district,
            count(*) - count(la_code) as la_code
        from linkage.mother_records
    )
    on columns(*) into name field value lacking
),

child_missing as (
    unpivot (
        select
            count(*) - count(baby_birth_date) as baby_birth_date,
            count(*) - count(baby_sex) as baby_sex,
            count(*) - count(mother_birth_year_month) as mother_birth_year_month,
            count(*) - count(mother_forename_hash) as mother_forename_hash,
            count(*) - count(mother_surname_hash) as mother_surname_hash,
            count(*) - count(mother_postcode_district) as mother_postcode_district
        from linkage.child_records
    )
    on columns(*) into name field value lacking
),

birth_missing as (
    unpivot (
        select
            count(*) - count(mother_person_id) as mother_person_id,
            count(*) - count(baby_sex) as baby_sex,
            count(*) - count(mother_birth_year_month) as mother_birth_year_month,
            count(*) - count(mother_forename_hash) as mother_forename_hash,
            count(*) - count(mother_surname_hash) as mother_surname_hash,
            count(*) - count(mother_postcode_district) as mother_postcode_district
        from linkage.birth_records
    )
    on columns(*) into name field value lacking
),

missing_rows as (
    select
        'missing_' || field as measure,
        'mother_records' as breakdown,
        'all' as category,
        lacking as numerator,
        (select count(*) from linkage.mother_records) as denominator
    from mother_missing
    union all
    select
        'missing_' || field,
        'child_records',
        'all',
        lacking,
        (select count(*) from linkage.child_records)
    from child_missing
    union all
    select
        'missing_' || field,
        'birth_records',
        'all',
        lacking,
        (select count(*) from linkage.birth_records)
    from birth_missing
)

select
    measure,
    breakdown,
    category,
    numerator,
    denominator,
    round(numerator / nullif(denominator, 0), 4) as rate
from (
    select * from counts
    union all
    select * from rates
    union all
    select * from missing_rows
)
order by measure, breakdown, category;
