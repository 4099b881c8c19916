-- analysis.newborn_counts: newborns and infants in care proceedings, and live births, by area and year.
-- Purpose: numerators and denominators of the rates, one row per geography x year x age band, for
--   English regions, England, Wales, England and Wales, and local authorities. Only whole years
--   are kept: a year must start on or after the first month of the data (first issue date, and
--   first birth when births give the denominators) and end on or before the extract end date.
--   Regions are the applicant authority's region (numerator) and the mother's region of residence
--   (denominator). Children without a birth date cannot be aged; they are counted separately in
--   children_without_birth_date and are in neither age band.
-- Inputs: analysis.newborn_children, analysis.live_births_by_region_year, staging.births,
--   audit.extract_info.
-- Parameters: $newborn_band, $infant_band (labels of the two age bands).
create or replace table analysis.newborn_counts as
with counted as (
    select * from analysis.newborn_children where counted
),

data_window as (
    select
        (select date_trunc('month', min(issue_date)) from analysis.newborn_children)
            as first_issue_day,
        (
            select date_trunc('month', min(baby_birth_date)) from staging.births
            where coalesce(live_birth, true)
        ) as first_birth_day,
        (select max(extract_end_date) from audit.extract_info) as last_day
),

years as (
    select distinct
        d.year,
        d.year_start
    from analysis.live_births_by_region_year as d, data_window as w
    where
        d.la_code is null
        and d.year_start >= w.first_issue_day
        and (d.source <> 'births' or d.year_start >= w.first_birth_day)
        and d.year_start + interval 1 year - interval 1 day <= w.last_day
),

bands as (
    select
        $newborn_band as age_band,
        1 as band_order
    union all
    select
        $infant_band as age_band,
        2 as band_order
),

region_births as (
    select
        d.region_code,
        d.year,
        d.year_start,
        d.live_births
    from analysis.live_births_by_region_year as d
    inner join years as y on d.year = y.year
    where d.la_code is null
),

la_births as (
    select
        d.region_code,
        d.la_code,
        d.year,
        d.year_start,
        d.live_births
    from analysis.live_births_by_region_year as d
    inner join years as y on d.year = y.year
    where d.la_code is not null
),

region_children as (
    select
        region_code,
        year,
        count(*) filter (where newborn) as newborns,
        count(*) filter (where infant) as infants,
        count(*) filter (where age_at_entry_days is null) as not_aged
    from counted
    group by region_code, year
),

la_children as (
    select
        region_code,
        la_code,
        year,
        count(*) filter (where newborn) as newborns,
        count(*) filter (where infant) as infants,
        count(*) filter (where age_at_entry_days is null) as not_aged
    from counted
    where la_code is not null
    group by region_code, la_code, year
),

-- England from its regions (codes E...), England and Wales from every region and Wales.
totals as (
    select * from (
        values
        ('country', 'E92000001', 'E%'),
        ('england_and_wales', 'K04000001', '%')
    ) as t (geography_level, geography_code, region_pattern)
),

regions as (
    select
        b.region_code,
        b.year,
        b.year_start,
        b.live_births,
        coalesce(c.newborns, 0) as newborns,
        coalesce(c.infants, 0) as infants,
        coalesce(c.not_aged, 0) as not_aged
    from region_births as b
    left join region_children as c on b.region_code = c.region_code and b.year = c.year
),

areas as (
    select
        case when region_code like 'E%' then 'region' else 'country' end as geography_level,
        region_code as geography_code,
        region_code,
        year,
        year_start,
        live_births,
        newborns,
        infants,
        not_aged
    from regions
    union all
    select
        t.geography_level,
        t.geography_code,
        t.geography_code as region_code,
        r.year,
        r.year_start,
        cast(sum(r.live_births) as bigint) as live_births,
        cast(sum(r.newborns) as bigint) as newborns,
        cast(sum(r.infants) as bigint) as infants,
        cast(sum(r.not_aged) as bigint) as not_aged
    from regions as r
    inner join totals as t on r.region_code like t.region_pattern
    group by t.geography_level, t.geography_code, r.year, r.year_start
    union all
    select
        'local_authority' as geography_level,
        b.la_code as geography_code,
        b.region_code,
        b.year,
        b.year_start,
        b.live_births,
        coalesce(c.newborns, 0) as newborns,
        coalesce(c.infants, 0) as infants,
        coalesce(c.not_aged, 0) as not_aged
    from la_births as b
    left join la_children as c
        on b.region_code = c.region_code and b.la_code = c.la_code and b.year = c.year
)

select
    a.geography_level,
    a.geography_code,
    a.region_code,
    a.year,
    a.year_start,
    k.age_band,
    k.band_order,
    case when k.band_order = 1 then a.newborns else a.infants end as children,
    a.live_births,
    a.not_aged as children_without_birth_date
from areas as a
cross join bands as k
order by
    a.year_start,
    k.band_order,
    case a.geography_level
        when 'england_and_wales' then 1 when 'country' then 2 when 'region' then 3 else 4
    end,
    a.geography_code;
