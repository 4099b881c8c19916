-- analysis.recurrence_cohort: one row per birth mother (mother_key) in care proceedings.
-- (With $mother_id = 'person_id' the column mother_key holds the person_id.)
-- Purpose: each mother's index set (her first observed set of care proceedings by issue date,
--   ties broken by case_id), her first return to court after it, and her covariates at index.
--   Index set: the earliest case; other cases of hers issued on the same day are part of it
--   (their children count as index children) and are never a return.
--   Event 'any': the first later case (issue date after the index issue date, different case_id).
--   Event 'new_child': the first later case with at least one child who is not in any of her
--   cases issued before it; a child counts as already seen when either its person_id or its
--   date of birth matches a child in an earlier case (ids change, e.g. at the April 2014
--   case-management change; twins split across sets are the known cost of the date rule).
--   Returns issued before the index set's final hearing count.
--   Censoring: at the extract end date; time is in days from the index issue date.
--   Competing event: the mother's death, where the extract holds a date of death (temp table
--   recurrence_mother_deaths, from sql/recurrence/mother_deaths.sql; empty otherwise). Her
--   earliest valid death date over all her rows is used. A death on or after the index issue
--   date, on or before the extract end, and before the return (a return on the day of death
--   counts as the return) ends follow-up: competing_event, time to the death, no event (a
--   return recorded after the death is not counted; returns_after_death in the metadata). A
--   death before the index issue date is implausible and ignored (counted in the metadata).
--   Look-back: mothers whose index issue date is within the first $lookback_years years of the
--   data window (earliest issue date of any case in staging.cases) are excluded (left
--   truncation: earlier proceedings before the data begin are unseen). They stay in the table
--   with in_cohort = false (after_lookback = false) so that every mother has exactly one row.
--   Zero follow-up: a mother whose index issue date is the extract end date cannot be followed
--   for a single day (time_days = 0, censored). She is excluded (in_cohort = false,
--   zero_follow_up = true; counted in the metadata), so that she does not enter the mothers at
--   start of a group without any chance of a return.
-- Inputs: staging.cases, staging.case_people, linkage.mother_keys, recurrence_mother_deaths.
-- Parameters: $mother_id ('mother_key': the linked woman; 'person_id': each person_id taken as a
--   separate woman, the sensitivity analysis without linkage), $application_types (list of application types that are care proceedings),
--   $event ('new_child' or 'any'), $lookback_years (integer), $extract_end_date (date),
--   $newborn_days, $infant_days (age bands of the youngest child at index).
create or replace table analysis.recurrence_cohort as
with care_cases as (
    select
        case_id,
        issue_date,
        region_code,
        final_hearing_date
    from staging.cases
    where list_contains($application_types, application_type)
),

data_window as (
    select
        min(issue_date) as window_start,
        cast(min(issue_date) + to_years(cast($lookback_years as integer)) as date) as cohort_start
    from staging.cases
),

keys as (
    select
        case_id,
        person_id,
        case when $mother_id = 'person_id' then person_id else mother_key end as mother_key
    from linkage.mother_keys
),

mother_cases as (
    select distinct
        k.mother_key,
        c.case_id,
        c.issue_date,
        c.region_code,
        c.final_hearing_date
    from keys as k
    inner join care_cases as c on k.case_id = c.case_id
),

mother_rows as (
    select
        k.mother_key,
        c.issue_date,
        c.case_id,
        p.birth_year_month
    from keys as k
    inner join care_cases as c on k.case_id = c.case_id
    inner join staging.case_people as p
        on k.case_id = p.case_id and k.person_id = p.person_id and p.role = 'mother'
),

index_cases as (
    select
        mother_key,
        case_id as index_case_id,
        issue_date as index_issue_date,
        region_code,
        final_hearing_date as index_final_hearing_date
    from mother_cases
    qualify row_number() over (partition by mother_key order by issue_date, case_id) = 1
),

children as (
    select distinct
        m.mother_key,
        m.case_id,
        m.issue_date,
        p.person_id as child_id,
        p.birth_date as child_birth_date
    from mother_cases as m
    inner join staging.case_people as p on m.case_id = p.case_id and p.role = 'child'
),

later_cases as (
    select
        m.mother_key,
        m.case_id,
        m.issue_date
    from mother_cases as m
    inner join index_cases as i on m.mother_key = i.mother_key
    where m.issue_date > i.index_issue_date
),

new_child_cases as (
    select distinct
        l.mother_key,
        l.case_id,
        l.issue_date
    from later_cases as l
    inner join children as c on l.mother_key = c.mother_key and l.case_id = c.case_id
    where not exists (
        select 1
        from children as e
        where
            e.mother_key = c.mother_key
            and e.issue_date < c.issue_date
            and (e.child_id = c.child_id or e.child_birth_date = c.child_birth_date)
    )
),

events as (
    select
        mother_key,
        case_id as event_case_id,
        issue_date as event_issue_date
    from (
        select * from later_cases where $event = 'any'
        union all
        select * from new_child_cases where $event = 'new_child'
    )
    qualify row_number() over (partition by mother_key order by issue_date, case_id) = 1
),

index_children as (
    select
        c.mother_key,
        count(distinct c.child_id) as n_children_index,
        min(i.index_issue_date - c.child_birth_date) as youngest_child_age_days
    from children as c
    inner join index_cases as i
        on c.mother_key = i.mother_key and c.issue_date = i.index_issue_date
    group by c.mother_key
),

mother_birth as (
    select
        mother_key,
        first(birth_year_month order by issue_date, case_id)
            filter (where birth_year_month is not null) as birth_year_month
    from mother_rows
    group by mother_key
),

mother_deaths as (
    select
        k.mother_key,
        min(d.death_date) as mother_death_date
    from keys as k
    inner join recurrence_mother_deaths as d
        on k.case_id = d.case_id and k.person_id = d.person_id
    where d.death_date is not null
    group by k.mother_key
),

with_deaths as (
    select
        i.*,
        e.event_case_id,
        e.event_issue_date,
        md.mother_death_date,
        md.mother_death_date >= i.index_issue_date
        and md.mother_death_date <= cast($extract_end_date as date)
        and (e.event_issue_date is null or md.mother_death_date < e.event_issue_date)
            as competing_event
    from index_cases as i
    left join events as e on i.mother_key = e.mother_key
    left join mother_deaths as md on i.mother_key = md.mother_key
),

assembled as (
    select
        i.mother_key,
        i.index_case_id,
        i.index_issue_date,
        i.index_final_hearing_date,
        case when not coalesce(i.competing_event, false) then i.event_case_id end
            as event_case_id,
        case when not coalesce(i.competing_event, false) then i.event_issue_date end
            as event_issue_date,
        i.event_case_id is not null and not coalesce(i.competing_event, false) as event,
        cast($extract_end_date as date) as censor_date,
        case
            when i.competing_event then i.mother_death_date
            else coalesce(i.event_issue_date, cast($extract_end_date as date))
        end - i.index_issue_date as time_days,
        case
            when not coalesce(i.competing_event, false)
                then i.event_issue_date < i.index_final_hearing_date
        end as event_before_final_hearing,
        i.mother_death_date,
        coalesce(i.competing_event, false) as competing_event,
        coalesce(i.competing_event and i.event_case_id is not null, false)
            as return_after_death,
        b.birth_year_month,
        date_sub(
            'month',
            cast(strptime(b.birth_year_month || '-15', '%Y-%m-%d') as date),
            i.index_issue_date
        ) // 12 as age_at_index_years,
        i.region_code,
        coalesce(ic.n_children_index, 0) as n_children_index,
        ic.youngest_child_age_days,
        i.index_issue_date >= w.cohort_start as after_lookback,
        i.index_issue_date = cast($extract_end_date as date) as zero_follow_up,
        w.window_start
    from with_deaths as i
    cross join data_window as w
    left join index_children as ic on i.mother_key = ic.mother_key
    left join mother_birth as b on i.mother_key = b.mother_key
)

select
    mother_key,
    after_lookback and not zero_follow_up as in_cohort,
    after_lookback,
    zero_follow_up,
    index_case_id,
    index_issue_date,
    index_final_hearing_date,
    event_case_id,
    event_issue_date,
    event,
    time_days,
    time_days / 365.25 as time_years,
    censor_date,
    event_before_final_hearing,
    mother_death_date,
    competing_event,
    return_after_death,
    birth_year_month,
    age_at_index_years,
    case
        when age_at_index_years is null then 'unknown'
        when age_at_index_years < 20 then 'under 20'
        when age_at_index_years < 25 then '20-24'
        when age_at_index_years < 30 then '25-29'
        when age_at_index_years < 35 then '30-34'
        else '35+'
    end as age_group,
    coalesce(region_code, 'unknown') as region_code,
    case
        when year(index_issue_date) < 2012 then '2008-2011'
        when year(index_issue_date) < 2016 then '2012-2015'
        when year(index_issue_date) < 2020 then '2016-2019'
        else '2020+'
    end as index_period,
    youngest_child_age_days,
    case
        when youngest_child_age_days is null then 'unknown'
        when youngest_child_age_days < $newborn_days then 'newborn'
        when youngest_child_age_days < $infant_days then 'infant'
        else 'older'
    end as youngest_child_age,
    n_children_index,
    case
        when n_children_index >= 3 then '3+'
        else cast(n_children_index as varchar)
    end as children_in_index_set,
    window_start
from assembled
order by mother_key
