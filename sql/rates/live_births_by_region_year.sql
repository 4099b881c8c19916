-- analysis.live_births_by_region_year: live births by mother's region (and local authority) and year.
-- Purpose: the denominators of newborn and infant rates, in the same years as the numerator.
--   Region rows (la_code null) come from staging.live_births when it has rows, otherwise they are
--   counted from staging.births (live_birth not false) by baby_birth_date. With calendar-year
--   live_births and financial years, year Y/Y+1 is round((3 * births in Y + births in Y+1) / 4):
--   nine months of Y and three of Y+1, assuming births spread evenly over the year
--   (source = 'live_births_apportioned'). Local-authority rows are always counted from births
--   (births.la_code is the mother's authority of residence).
-- Inputs: staging.births, staging.live_births.
-- Parameters: $year_type ('financial' or 'calendar').
create or replace table analysis.live_births_by_region_year as
with counted_births as (
    select
        region_code,
        la_code,
        case
            when $year_type = 'financial'
                then year(baby_birth_date) - cast(month(baby_birth_date) < 4 as integer)
            else year(baby_birth_date)
        end as start_year
    from staging.births
    where coalesce(live_birth, true)
),

supplied as (
    select
        region_code,
        year as calendar_year,
        cast(sum(live_births) as bigint) as live_births
    from staging.live_births
    group by region_code, year
),

use_supplied as (
    select count(*) > 0 as yes from supplied
),

region_from_births as (
    select
        region_code,
        start_year,
        count(*) as live_births,
        'births' as source
    from counted_births
    where not (select yes from use_supplied)
    group by region_code, start_year
),

region_from_supplied as (
    select
        this.region_code,
        this.calendar_year as start_year,
        case
            when $year_type = 'financial'
                then cast(round((3 * this.live_births + nxt.live_births) / 4.0) as bigint)
            else this.live_births
        end as live_births,
        case
            when $year_type = 'financial' then 'live_births_apportioned' else 'live_births'
        end as source
    from supplied as this
    left join supplied as nxt
        on
            this.region_code = nxt.region_code
            and nxt.calendar_year = this.calendar_year + 1
    where $year_type = 'calendar' or nxt.live_births is not null
),

la_from_births as (
    select
        region_code,
        la_code,
        start_year,
        count(*) as live_births,
        'births' as source
    from counted_births
    where la_code is not null
    group by region_code, la_code, start_year
),

all_rows as (
    select
        region_code,
        cast(null as varchar) as la_code,
        start_year,
        live_births,
        source
    from region_from_births
    union all
    select
        region_code,
        cast(null as varchar) as la_code,
        start_year,
        live_births,
        source
    from region_from_supplied
    union all
    select
        region_code,
        la_code,
        start_year,
        live_births,
        source
    from la_from_births
)

select
    region_code,
    la_code,
    case
        when $year_type = 'financial'
            then
                cast(start_year as varchar) || '/'
                || lpad(cast((start_year + 1) % 100 as varchar), 2, '0')
        else cast(start_year as varchar)
    end as year,
    case
        when $year_type = 'financial'
            then make_date(start_year, 4, 1)
        else make_date(start_year, 1, 1)
    end as year_start,
    live_births,
    source
from all_rows
order by la_code nulls first, region_code, year_start;
