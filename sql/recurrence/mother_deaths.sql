-- recurrence_mother_deaths (temporary): the optional competing event, one row per mother row
-- of staging.case_people, with the raw mother_death_date parsed.
-- Purpose: the data contract has no date of death; an extract may add a mother_death_date
--   column, which ingest keeps (VARCHAR) in raw.case_people only. This stage reads it itself.
--   Only run when raw.case_people has the column (recurrence.survival.cohort checks).
--   status: 'missing' (null or blank), 'invalid' (not an ISO date yyyy-mm-dd, or no such
--   day), 'after_extract_end' (later than the extract end date: not a death within the data),
--   'valid'. Only valid dates are used (death_date); the other statuses are counted in the
--   cohort asset's metadata, never dropped silently.
-- Inputs: raw.case_people (joined to staging.case_people on source_row, so quarantined rows
--   are left out and ids are the staged ones).
-- Parameters: $extract_end_date (date).
create or replace temp table recurrence_mother_deaths as
with raw_values as (
    select
        s.case_id,
        s.person_id,
        nullif(trim(r.mother_death_date), '') as raw_value
    from staging.case_people as s
    inner join raw.case_people as r on s.source_row = r.source_row
    where s.role = 'mother'
),

parsed as (
    select
        case_id,
        person_id,
        raw_value,
        case
            when regexp_full_match(raw_value, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
                then try_cast(raw_value as date)
        end as parsed_date
    from raw_values
)

select
    case_id,
    person_id,
    raw_value,
    case
        when raw_value is null then 'missing'
        when parsed_date is null then 'invalid'
        when parsed_date > cast($extract_end_date as date) then 'after_extract_end'
        else 'valid'
    end as status,
    case when parsed_date <= cast($extract_end_date as date) then parsed_date end as death_date
from parsed
