-- Rates are percentages 0-100. Growth rates are the exception: -100% to unbounded.
with

fct_kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

rates_out_of_range as (
    select *
    from fct_kpi_values
    where
        unit = 'percent'
        and indicator_id not in ('m1_kpi_proposal_growth')
        and (value < 0 or value > 100)
),

final as (
    select * from rates_out_of_range
)

select * from final
