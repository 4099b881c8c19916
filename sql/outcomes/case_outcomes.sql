-- analysis.case_outcomes: one row per set of proceedings in staging.cases, classed by how it ended.
-- Purpose: the unit of the outcomes stage. Every case of staging.cases has exactly one row, care
--   proceedings or not (care_proceedings says which; only they are published).
--   outcome_class: 'removal' or 'home_or_family' from the outcome code (the mapping is a
--   parameter, from [outcomes] in the configuration); 'ongoing' when there is neither an outcome
--   nor a final hearing date; 'outcome_not_recorded' when there is a final hearing date but no
--   outcome. A recorded outcome classes the case even when its final hearing date is missing.
--   weeks_to_final_hearing: (final_hearing_date - issue_date) / 7, null without a final hearing.
--   Mother's history (care proceedings only): a case's mothers are its case_people mother rows,
--   each identified by linkage.mother_keys. An earlier set is another set of care proceedings of
--   the same mother_key issued strictly before this one (sets issued the same day are one
--   episode, as in the recurrence cohort). An earlier removal is an earlier set classed
--   'removal' whose final hearing was on or before this set's issue date (the child had been
--   removed when this set began). mother_history: 'no_mother_recorded' (no mother row),
--   'returning' (an earlier set), else 'index' (her first set seen in the data).
--   previous_removal: 'no_mother_recorded', 'previous_removal', or 'no_previous_removal'. With
--   two mothers on one case, the case counts as returning (or previous removal) if either is.
--   Year: financial (April-March, '2016/17') or calendar year of the issue date.
-- Inputs: staging.cases, linkage.mother_keys.
-- Parameters: $care_application_types (application types that are care proceedings),
--   $removal_outcomes, $home_outcomes (outcome codes in each class), $year_type
--   ('financial' or 'calendar').
create or replace table analysis.case_outcomes as
with classified as (
    select
        case_id,
        issue_date,
        application_type,
        region_code,
        la_code,
        final_hearing_date,
        outcome,
        list_contains($care_application_types, application_type) as care_proceedings,
        case
            when list_contains($removal_outcomes, outcome) then 'removal'
            when list_contains($home_outcomes, outcome) then 'home_or_family'
            when outcome is null and final_hearing_date is null then 'ongoing'
            else 'outcome_not_recorded'
        end as outcome_class
    from staging.cases
),

mother_sets as (
    select distinct
        k.mother_key,
        c.case_id,
        c.issue_date,
        c.final_hearing_date,
        c.outcome_class
    from linkage.mother_keys as k
    inner join classified as c on k.case_id = c.case_id
    where c.care_proceedings
),

history as (
    select
        m.mother_key,
        m.case_id,
        count(distinct e.case_id) as earlier_sets,
        count(distinct e.case_id) filter (
            where e.outcome_class = 'removal' and e.final_hearing_date <= m.issue_date
        ) as earlier_removals
    from mother_sets as m
    left join mother_sets as e
        on m.mother_key = e.mother_key and e.issue_date < m.issue_date
    group by m.mother_key, m.case_id
),

case_history as (
    select
        case_id,
        count(*) as mothers,
        max(earlier_sets) as earlier_sets,
        max(earlier_removals) as earlier_removals
    from history
    group by case_id
),

periods as (
    select
        c.*,
        case
            when $year_type = 'financial'
                then year(c.issue_date) - cast(month(c.issue_date) < 4 as integer)
            else year(c.issue_date)
        end as start_year
    from classified as c
)

select
    p.case_id,
    p.issue_date,
    p.application_type,
    p.care_proceedings,
    p.region_code,
    p.la_code,
    p.final_hearing_date,
    p.outcome,
    p.outcome_class,
    date_diff('day', p.issue_date, p.final_hearing_date) / 7.0 as weeks_to_final_hearing,
    case
        when $year_type = 'financial'
            then
                cast(p.start_year as varchar) || '/'
                || lpad(cast((p.start_year + 1) % 100 as varchar), 2, '0')
        else cast(p.start_year as varchar)
    end as year,
    case
        when $year_type = 'financial' then make_date(p.start_year, 4, 1)
        else make_date(p.start_year, 1, 1)
    end as year_start,
    coalesce(h.mothers, 0) as mothers,
    coalesce(h.earlier_sets, 0) as earlier_sets,
    coalesce(h.earlier_removals, 0) as earlier_removals,
    case
        when not p.care_proceedings then null
        when h.case_id is null then 'no_mother_recorded'
        when h.earlier_sets > 0 then 'returning'
        else 'index'
    end as mother_history,
    case
        when not p.care_proceedings then null
        when h.case_id is null then 'no_mother_recorded'
        when h.earlier_removals > 0 then 'previous_removal'
        else 'no_previous_removal'
    end as previous_removal
from periods as p
left join case_history as h on p.case_id = h.case_id
order by p.issue_date, p.case_id;
