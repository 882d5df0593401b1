-- Rates are percentages 0-100. Growth rates (-100% to unbounded) and the leader ratio (its
-- numerator counts leaders of any grade) are the exceptions.
with

fct_kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

rates_out_of_range as (
    select *
    from fct_kpi_values
    where
        unit = 'percent'
        -- Certified leaders of any grade over staff of 係長級 and above may exceed 100%.
        and indicator_id not in ('m1_kpi_proposal_growth', 'm2_ksi_certified_dx_leader_ratio')
        and (value < 0 or value > 100)
),

final as (
    select * from rates_out_of_range
)

select * from final
