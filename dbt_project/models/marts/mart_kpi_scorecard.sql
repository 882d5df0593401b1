-- The scorecard shaped for a dashboard: every ward x fiscal year x indicator with its labels
-- (Japanese and English), its place in the catalogue (measure, tier, display order), the
-- target, how far the value is from it (attainment, by direction), the change from the
-- ward's previous fiscal year, and the status, provisional included.
with

fct_kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

dim_indicator as (
    select * from {{ ref('dim_indicator') }}
),

dim_ward as (
    select * from {{ ref('dim_ward') }}
),

with_previous as (
    select
        *,
        lag(value) over (
            partition by ward_code, indicator_id order by fiscal_year
        ) as previous_value,
        lag(fiscal_year) over (
            partition by ward_code, indicator_id order by fiscal_year
        ) as previous_fiscal_year
    from fct_kpi_values
),

final as (
    select
        with_previous.ward_code,
        dim_ward.ward_name_ja,
        dim_ward.ward_name_en,
        with_previous.fiscal_year,
        with_previous.indicator_id,
        dim_indicator.name_ja as indicator_name_ja,
        dim_indicator.name_en as indicator_name_en,
        dim_indicator.measure,
        dim_indicator.measure_name_ja,
        dim_indicator.measure_name_en,
        dim_indicator.tier,
        dim_indicator.display_order,
        with_previous.unit,
        with_previous.direction,
        with_previous.value,
        with_previous.target_value,
        with_previous.status,
        with_previous.is_provisional,
        with_previous.as_of_date,
        case
            when with_previous.direction = 'higher_is_better'
                then with_previous.value / nullif(with_previous.target_value, 0)
            when with_previous.direction = 'lower_is_better'
                then with_previous.target_value / nullif(with_previous.value, 0)
        end as attainment,
        -- The spine has no gaps, but a ward's first year has no previous one.
        case
            when with_previous.previous_fiscal_year = with_previous.fiscal_year - 1
                then with_previous.previous_value
        end as previous_value,
        case
            when with_previous.previous_fiscal_year = with_previous.fiscal_year - 1
                then with_previous.value - with_previous.previous_value
        end as change_from_previous,
        case with_previous.status
            when 'achieved' then '達成'
            when 'not_achieved' then '未達成'
            when 'provisional' then '暫定'
            when 'no_data' then 'データなし'
            when 'no_target' then '目標なし'
        end as status_ja
    from with_previous
    left join dim_indicator
        on with_previous.indicator_id = dim_indicator.indicator_id
    left join dim_ward
        on with_previous.ward_code = dim_ward.ward_code
)

select * from final
