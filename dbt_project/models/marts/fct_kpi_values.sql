{#- The indicators computed so far, each by its model int_kpi_<indicator_id>. Adding an
    indicator to the scorecard = adding its model and its id here. -#}
{%- set computed_indicator_ids = [
    'm1_ksi_basic_training_completion',
    'm1_kpi_proposal_growth',
    'm1_kpi_basic_course_count',
    'm1_kpi_tool_training_sessions',
    'm2_kpi_dx_leader_program_graduates',
    'ctx_open_datasets',
] -%}

-- depends_on: {{ ref('dim_ward') }}
-- (every ward_code is one of dim_ward's: the relationships test runs whenever this model is
-- built, since dim_ward is then an ancestor; see DBT_BUILD_ARGS in orchestration/assets/dbt.py)

-- One value per ward per fiscal year per computed indicator, with the target in force and
-- the status the scorecard shows. A ward's own target (ward_indicator_targets) overrides the
-- catalogue's, so a ward can change a target without a code change.
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

dim_indicator as (
    select * from {{ ref('dim_indicator') }}
),

ward_indicator_targets as (
    select * from {{ ref('ward_indicator_targets') }}
),

{% for indicator_id in computed_indicator_ids %}
    int_kpi_{{ indicator_id }} as (
        select * from {{ ref('int_kpi_' ~ indicator_id) }}
    ),

{% endfor %}
kpi_values as (
    {% for indicator_id in computed_indicator_ids %}
        select
            '{{ indicator_id }}' as indicator_id,
            ward_code,
            fiscal_year,
            numerator,
            denominator,
            value
        from int_kpi_{{ indicator_id }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

computed_indicators as (
    -- From the list, not from the values: an indicator stays on the scorecard even when its
    -- model returns no row.
    select unnest([
        {%- for indicator_id in computed_indicator_ids -%}
            '{{ indicator_id }}'{% if not loop.last %}, {% endif %}
        {%- endfor -%}
    ]) as indicator_id
),

spine_by_indicator as (
    -- Every ward x fiscal year x computed indicator, whether or not a value exists.
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        computed_indicators.indicator_id
    from int_fiscal_year_spine
    cross join computed_indicators
),

values_with_targets as (
    select
        spine_by_indicator.ward_code,
        spine_by_indicator.fiscal_year,
        spine_by_indicator.indicator_id,
        cast(kpi_values.value as double) as value,
        cast(kpi_values.numerator as double) as numerator,
        cast(kpi_values.denominator as double) as denominator,
        dim_indicator.unit,
        dim_indicator.direction,
        coalesce(
            ward_indicator_targets.target_value, dim_indicator.target_value
        ) as target_value
    from spine_by_indicator
    left join kpi_values
        on
            spine_by_indicator.ward_code = kpi_values.ward_code
            and spine_by_indicator.fiscal_year = kpi_values.fiscal_year
            and spine_by_indicator.indicator_id = kpi_values.indicator_id
    left join dim_indicator
        on spine_by_indicator.indicator_id = dim_indicator.indicator_id
    left join ward_indicator_targets
        on
            spine_by_indicator.ward_code = ward_indicator_targets.ward_code
            and spine_by_indicator.indicator_id = ward_indicator_targets.indicator_id
),

values_with_status as (
    select
        *,
        case
            when value is null then 'no_data'
            when target_value is null then 'no_target'
            when direction = 'higher_is_better' and value >= target_value then 'achieved'
            when direction = 'lower_is_better' and value <= target_value then 'achieved'
            else 'not_achieved'
        end as status
    from values_with_targets
),

final as (
    select
        ward_code,
        fiscal_year,
        indicator_id,
        value,
        numerator,
        denominator,
        unit,
        direction,
        target_value,
        status
    from values_with_status
)

select * from final
