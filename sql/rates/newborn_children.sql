-- analysis.newborn_children: one row per child per set of care proceedings, aged at entry.
-- Purpose: the numerator of newborn and infant rates. Age at entry is issue_date - birth_date in
--   days, or 0 for a child born after the issue date (added at birth). Each row is placed in the
--   financial (April-March, '2016/17') or calendar ('2016') year of the issue date. A child counts
--   once per set (the contract's key is case_id, person_id); a child in two or more sets in the
--   same year is counted only in the first (earliest issue_date, then case_id): counted = true.
--   A child is identified by child_key, so that a child given two person_ids (a duplicate
--   record, the April 2014 system change) is still one child:
--   1. its linked maternity birth_id, where it has one;
--   2. otherwise the one birth linked to a child with the same mother (mother_key of the set)
--      and date of birth in any set: a record that failed to link is the same child as its
--      linked record in another set;
--   3. otherwise its mother and date of birth (the same child unlinked in two sets);
--   4. otherwise (no mother_key or no date of birth) its person_id.
--   Two child rows of the same set are always two children: a key shared by two rows of one
--   set (twins given one birth by the linkage, or unlinked twins) identifies neither, and those
--   rows fall back to person_id.
--   Children with no birth_date keep their row with a null age so they are reported, not lost.
--   Date precision: a birth_date_precision of 'week' says only the week of birth is known (the
--   Monday-Sunday week holding birth_date; Cafcass records the week). The age at entry then
--   lies between age_at_entry_min_days (born on the Sunday) and age_at_entry_max_days (born on
--   the Monday); newborn_surely / infant_surely say the child is in the band whatever the day
--   (lower bound), newborn_possibly / infant_possibly that it may be (upper bound). newborn and
--   infant keep the stated rule: the age from birth_date as written. For day precision all
--   three agree.
-- Inputs: staging.cases, staging.case_people (role = 'child'), linkage.child_births,
--   linkage.mother_keys.
-- Parameters: $care_application_types (list of application types counted as care proceedings),
--   $year_type ('financial' or 'calendar'), $newborn_days, $infant_days.
create or replace table analysis.newborn_children as
-- The mother of a set: its first mother_key (a set has one mother row in all but rare cases).
with case_mothers as (
    select
        case_id,
        min(mother_key) as mother_key
    from linkage.mother_keys
    group by case_id
),

child_rows as (
    select
        p.case_id,
        p.person_id,
        p.birth_date,
        l.birth_id,
        m.mother_key
    from staging.case_people as p
    inner join staging.cases as c on p.case_id = c.case_id
    left join linkage.child_births as l on p.case_id = l.case_id and p.person_id = l.person_id
    left join case_mothers as m on p.case_id = m.case_id
    where
        p.role = 'child'
        and list_contains($care_application_types, c.application_type)
),

-- Births that two different person_ids of one set link to cannot tell those children apart.
ambiguous_births as (
    select distinct birth_id
    from child_rows
    where birth_id is not null
    group by case_id, birth_id
    having count(distinct person_id) > 1
),

-- For each mother and date of birth, the one birth her linked children of that date have.
mother_dob_births as (
    select
        r.mother_key,
        r.birth_date,
        min(r.birth_id) as birth_id
    from child_rows as r
    anti join ambiguous_births as a on r.birth_id = a.birth_id
    where r.birth_id is not null and r.mother_key is not null and r.birth_date is not null
    group by r.mother_key, r.birth_date
    having count(distinct r.birth_id) = 1
),

candidate_keys as (
    select
        r.case_id,
        r.person_id,
        r.birth_id,
        case
            when r.birth_id is not null and a.birth_id is null then 'birth:' || r.birth_id
            when r.birth_id is null and d.birth_id is not null then 'birth:' || d.birth_id
            when r.birth_id is null and r.mother_key is not null and r.birth_date is not null
                then 'mother:' || r.mother_key || ':' || cast(r.birth_date as varchar)
        end as candidate_key
    from child_rows as r
    left join ambiguous_births as a on r.birth_id = a.birth_id
    left join mother_dob_births as d
        on r.mother_key = d.mother_key and r.birth_date = d.birth_date
),

child_keys as (
    select
        case_id,
        person_id,
        birth_id,
        case
            when
                candidate_key is not null
                and count(*) over (partition by case_id, candidate_key) = 1
                then candidate_key
            else 'person:' || person_id
        end as child_key
    from candidate_keys
),

children as (
    select
        c.case_id,
        p.person_id,
        coalesce(k.child_key, 'person:' || p.person_id) as child_key,
        k.birth_id,
        c.issue_date,
        p.birth_date,
        c.region_code,
        c.la_code,
        coalesce(p.birth_date > c.issue_date, false) as added_at_birth,
        coalesce(p.birth_date_precision, 'day') as birth_date_precision,
        case
            when p.birth_date_precision = 'week'
                then greatest(
                    date_diff('day', p.birth_date, c.issue_date) - (7 - isodow(p.birth_date)), 0
                )
            when p.birth_date is not null
                then greatest(date_diff('day', p.birth_date, c.issue_date), 0)
        end as age_at_entry_min_days,
        case
            when p.birth_date_precision = 'week'
                then greatest(
                    date_diff('day', p.birth_date, c.issue_date) + (isodow(p.birth_date) - 1), 0
                )
            when p.birth_date is not null
                then greatest(date_diff('day', p.birth_date, c.issue_date), 0)
        end as age_at_entry_max_days,
        -- greatest() skips nulls in DuckDB, so a missing birth date must stay null explicitly.
        case
            when p.birth_date is not null
                then greatest(date_diff('day', p.birth_date, c.issue_date), 0)
        end as age_at_entry_days
    from staging.cases as c
    inner join staging.case_people as p on c.case_id = p.case_id
    left join child_keys as k on p.case_id = k.case_id and p.person_id = k.person_id
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
    child_key,
    birth_id,
    issue_date,
    birth_date,
    added_at_birth,
    age_at_entry_days,
    region_code,
    la_code,
    year,
    year_start,
    row_number() over (
        partition by child_key, year order by issue_date, case_id, person_id
    ) = 1 as counted,
    age_at_entry_days < $newborn_days as newborn,
    age_at_entry_days < $infant_days as infant,
    birth_date_precision,
    age_at_entry_min_days,
    age_at_entry_max_days,
    age_at_entry_max_days < $newborn_days as newborn_surely,
    age_at_entry_min_days < $newborn_days as newborn_possibly,
    age_at_entry_max_days < $infant_days as infant_surely,
    age_at_entry_min_days < $infant_days as infant_possibly
from labelled
order by year_start, region_code, case_id, person_id;
