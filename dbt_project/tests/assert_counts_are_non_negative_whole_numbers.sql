-- A count indicator is a number of things: never negative, never fractional.
with

fct_kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

impossible_counts as (
    select *
    from fct_kpi_values
    where unit = 'count' and (value < 0 or value != floor(value))
),

final as (
    select * from impossible_counts
)

select * from final
