-- Rates are percentages 0-100, with three exceptions:
-- - proposal growth is a growth rate, from -100% and unbounded above;
-- - the leader ratio's numerator counts leaders of any grade over staff of 係長級 and above, so
--   it may exceed 100%;
-- - the routine-task time reduction is 100 * (1 - after / before): at most 100%, and below 0
--   when the tasks take longer after their BPR than before (cases weigh the minutes, so a
--   small improvement on a busier year can come out negative).
with

fct_kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

bounded as (
    select
        *,
        case
            when indicator_id = 'm1_kpi_proposal_growth' then -100
            when indicator_id = 'm1_kgi_routine_task_time_reduction' then null
            else 0
        end as lowest,
        case
            when indicator_id in ('m1_kpi_proposal_growth', 'm2_ksi_certified_dx_leader_ratio')
                then null
            else 100
        end as highest
    from fct_kpi_values
    where unit = 'percent'
),

rates_out_of_range as (
    select *
    from bounded
    where value < lowest or value > highest
),

final as (
    select * from rates_out_of_range
)

select * from final
