-- The status the scorecard shows must follow from value, target, direction and whether the
-- fiscal year is over in the data, whatever the model that computed it.
with

fct_kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

inconsistent_statuses as (
    select *
    from fct_kpi_values
    where
        (value is null and status != 'no_data')
        or (value is not null and is_provisional and status != 'provisional')
        or (value is not null and not is_provisional and status = 'provisional')
        or (
            value is not null
            and not is_provisional
            and target_value is null
            and status != 'no_target'
        )
        or (
            value is not null
            and not is_provisional
            and target_value is not null
            and status not in ('achieved', 'not_achieved')
        )
        or (
            status = 'achieved'
            and direction = 'higher_is_better'
            and value < target_value
        )
        or (
            status = 'achieved'
            and direction = 'lower_is_better'
            and value > target_value
        )
        or (
            status = 'not_achieved'
            and direction = 'higher_is_better'
            and value >= target_value
        )
        or (
            status = 'not_achieved'
            and direction = 'lower_is_better'
            and value <= target_value
        )
),

final as (
    select * from inconsistent_statuses
)

select * from final
