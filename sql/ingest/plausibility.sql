-- audit.plausibility: counts of legal but implausible values, one row per rule; nothing dropped.
-- Purpose: values that pass the data contract but are unlikely to be true are counted and shown
--   (report data quality section, asset metadata), never quarantined: a rare true value must not
--   be lost, and a count that jumps between extracts points at a supplier's error. Only counts are
--   stored, never an identifier.
-- Rules:
--   mother_age_under_min / mother_age_over_max: a mother's age at a child's birth, in whole years,
--     below $mother_age_min or above $mother_age_max. Adult dates of birth are year-month only, so
--     age is counted in whole months from her birth month to the child's birth month, divided by 12
--     and rounded down (a day-precise age may differ by up to one month). In case_people: each
--     child row with a birth_date against each mother row of the same set with a
--     birth_year_month (rows counted: child rows). In births: mother_birth_year_month against
--     baby_birth_date (rows counted: births).
--   child_born_after_issue: a child of a set born after its issue_date (proceedings issued before
--     birth). Such a child is "added at birth": analysis.newborn_children gives it age 0 at entry,
--     so it counts as a newborn (and an infant).
--   long_before_end: an issue, final hearing or maternity birth date more than $years_before_end
--     years before extract_end_date. Children's birth dates are left out: a child of up to 17 in
--     proceedings near the start of the data lawfully has a birth date far earlier.
--   mother_in_many_cases: a mother person_id (role mother) in more than $cases_per_mother sets of
--     proceedings (rows counted: person ids). Counted per source person_id, before linkage; the same
--     limit per linked mother_key is linkage.max_cases_per_mother, checked after linkage.
-- Inputs: staging.cases, staging.case_people, staging.births, audit.extract_info.
-- Parameters: $mother_age_min, $mother_age_max, $years_before_end, $cases_per_mother (integers).
create or replace table audit.plausibility as
with end_date as (
    select
        extract_end_date,
        extract_end_date - to_years(cast($years_before_end as integer)) as long_ago
    from audit.extract_info
),

case_mother_ages as (
    select
        k.case_id,
        k.person_id,
        (
            (year(k.birth_date) * 12 + month(k.birth_date))
            - (
                cast(m.birth_year_month[1:4] as integer) * 12
                + cast(m.birth_year_month[6:7] as integer)
            )
        ) // 12 as age_years
    from staging.case_people as k
    inner join staging.case_people as m on k.case_id = m.case_id
    where
        k.role = 'child'
        and k.birth_date is not null
        and m.role = 'mother'
        and m.birth_year_month is not null
),

birth_mother_ages as (
    select
        (
            (year(baby_birth_date) * 12 + month(baby_birth_date))
            - (
                cast(mother_birth_year_month[1:4] as integer) * 12
                + cast(mother_birth_year_month[6:7] as integer)
            )
        ) // 12 as age_years
    from staging.births
    where mother_birth_year_month is not null
),

mother_cases as (
    select person_id
    from staging.case_people
    where role = 'mother'
    group by person_id
    having count(distinct case_id) > $cases_per_mother
),

counted as (
    select
        1 as ord,
        'mother_age_under_min' as rule,
        'case_people' as table_name,
        'birth_year_month' as column_name,
        'mother under ' || cast($mother_age_min as varchar) || ' years at the child''s birth' as limit_text,
        'child rows' as counted_unit,
        (
            select count(distinct (case_id, person_id)) from case_mother_ages
            where age_years < $mother_age_min
        ) as rows_flagged
    union all
    select
        2,
        'mother_age_over_max',
        'case_people',
        'birth_year_month',
        'mother over ' || cast($mother_age_max as varchar) || ' years at the child''s birth',
        'child rows',
        (
            select count(distinct (case_id, person_id)) from case_mother_ages
            where age_years > $mother_age_max
        )
    union all
    select
        3,
        'mother_age_under_min',
        'births',
        'mother_birth_year_month',
        'mother under ' || cast($mother_age_min as varchar) || ' years at the birth',
        'births',
        (select count(*) from birth_mother_ages where age_years < $mother_age_min)
    union all
    select
        4,
        'mother_age_over_max',
        'births',
        'mother_birth_year_month',
        'mother over ' || cast($mother_age_max as varchar) || ' years at the birth',
        'births',
        (select count(*) from birth_mother_ages where age_years > $mother_age_max)
    union all
    select
        5,
        'child_born_after_issue',
        'case_people',
        'birth_date',
        'child born after the issue date of its set (counted as a newborn, age 0)',
        'child rows',
        (
            select count(*)
            from staging.case_people as p
            inner join staging.cases as c on p.case_id = c.case_id
            where p.role = 'child' and p.birth_date > c.issue_date
        )
    union all
    select
        6,
        'long_before_end',
        'cases',
        'issue_date',
        'more than ' || cast($years_before_end as varchar) || ' years before extract_end_date',
        'rows',
        (
            select count(*) from staging.cases
            where issue_date < (select long_ago from end_date)
        )
    union all
    select
        7,
        'long_before_end',
        'cases',
        'final_hearing_date',
        'more than ' || cast($years_before_end as varchar) || ' years before extract_end_date',
        'rows',
        (
            select count(*) from staging.cases
            where final_hearing_date < (select long_ago from end_date)
        )
    union all
    select
        8,
        'long_before_end',
        'births',
        'baby_birth_date',
        'more than ' || cast($years_before_end as varchar) || ' years before extract_end_date',
        'rows',
        (
            select count(*) from staging.births
            where baby_birth_date < (select long_ago from end_date)
        )
    union all
    select
        9,
        'mother_in_many_cases',
        'case_people',
        'person_id',
        'mother in more than ' || cast($cases_per_mother as varchar) || ' sets of proceedings',
        'mothers (person ids)',
        (select count(*) from mother_cases)
)

select
    rule,
    table_name,
    column_name,
    limit_text,
    counted_unit,
    rows_flagged
from counted
order by ord;
