-- analysis.newborn_children: one row per child per set of care proceedings, aged at entry.
-- Purpose: the numerator of newborn and infant rates. Age at entry is issue_date - birth_date in
--   days, or 0 for a child born after the issue date (added at birth). Each row is placed in the
--   financial (April-March, '2016/17') or calendar ('2016') year of the issue date. A child counts
--   once per set (the contract's key is case_id, person_id); a child in two or more sets in the
--   same year is counted only in the first (earliest issue_date, then case_id): counted = true.
--   Children with no birth_date keep their row with a null age so they are reported, not lost.
-- Inputs: staging.cases, staging.case_people (role = 'child').
-- Parameters: $care_application_types (list of application types counted as care proceedings),
--   $year_type ('financial' or 'calendar'), $newborn_days, $infant_days.
create or replace table analysis.newborn_children as
with children as (
    select
        c.case_id,
        p.person_id,
        c.issue_date,
        p.birth_date,
        c.region_code,
        c.la_code,
        coalesce(p.birth_date > c.issue_date, false) as added_at_birth,
        -- greatest() skips nulls in DuckDB, so a missing birth date must stay null explicitly.
        case
            when p.birth_date is not null
                then greatest(date_diff('day', p.birth_date, c.issue_date), 0)
        end as age_at_entry_days
    from staging.cases as c
    inner join staging.case_people as p on c.case_id = p.case_id
    where
        p.role = 'child'
        and list_contains($care_application_types, c.application_type)
),

periods as (
    select
        *,
        case
            when $year_type = 'financial'
                then year(issue_date) - cast(month(issue_date) < 4 as integer)
            else year(issue_date)
        end as start_year
    from children
),

labelled as (
    select
        *,
        case
            when $year_type = 'financial'
                then make_date(start_year, 4, 1)
            else make_date(start_year, 1, 1)
        end as year_start,
        case
            when $year_type = 'financial'
                then
                    cast(start_year as varchar) || '/'
                    || lpad(cast((start_year + 1) % 100 as varchar), 2, '0')
            else cast(start_year as varchar)
        end as year
    from periods
)

select
    case_id,
    person_id,
    issue_date,
    birth_date,
    added_at_birth,
    age_at_entry_days,
    region_code,
    la_code,
    year,
    year_start,
    row_number() over (
        partition by person_id, year order by issue_date, case_id
    ) = 1 as counted,
    age_at_entry_days < $newborn_days as newborn,
    age_at_entry_days < $infant_days as infant
from labelled
order by year_start, region_code, case_id, person_id;
