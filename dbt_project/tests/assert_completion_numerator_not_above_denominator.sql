-- Completers are members of the population, so they can never outnumber it.
with

fct_kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

completion_rates as (
    select *
    from fct_kpi_values
    where indicator_id = 'm1_ksi_basic_training_completion'
),

numerators_above_denominators as (
    select *
    from completion_rates
    where numerator > denominator or numerator < 0
),

final as (
    select * from numerators_above_denominators
)

select * from final
