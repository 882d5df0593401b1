{#- Every indicator of the catalogue, each computed by its model int_kpi_<indicator_id>
    (dbt needs the refs spelled out). Adding an indicator = its seed row, its model, its id
    here. -#}
{%- set computed_indicator_ids = [
    'm1_kgi_staff_digital_satisfaction',
    'm1_kgi_routine_task_time_reduction',
    'm1_ksi_basic_training_completion',
    'm1_kpi_proposal_growth',
    'm1_kpi_basic_course_count',
    'm1_kpi_tool_training_sessions',
    'm2_kgi_dept_led_dx_projects',
    'm2_kgi_online_procedure_satisfaction',
    'm2_ksi_certified_dx_leader_ratio',
    'm2_kpi_dx_leader_cost_savings',
    'm2_kpi_dx_leader_program_graduates',
    'm2_kpi_skill_map_registration',
    'm3_kgi_external_specialist_retention',
    'm3_kgi_standard_system_migration',
    'm3_ksi_cio_advisor_count',
    'm3_ksi_digital_career_path',
    'm3_kpi_external_advice_improvements',
    'm3_kpi_external_specialist_hires',
    'm3_kpi_private_sector_exchanges',
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

int_indicator_source_tables as (
    select * from {{ ref('int_indicator_source_tables') }}
),

int_source_coverage as (
    select * from {{ ref('int_source_coverage') }}
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
            value,
            {# Only the open datasets reconstruct years without a snapshot. #}
            {% if indicator_id == 'ctx_open_datasets' -%}
                is_reconstructed
            {%- else -%}
                false as is_reconstructed
            {%- endif %}
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

ward_as_of_dates as (
    -- What the ward's data knows: the latest reference date (基準日) among its exports. The
    -- landing-zone sources of a ward move together (a closing export of any of them says the
    -- year is over in the ward's data); the catalogue, snapshotted by the pipeline itself,
    -- dates only the open datasets.
    select
        ward_code,
        max(last_reference_date) filter (
            where raw_table <> 'opendata_package'
        ) as exports_as_of_date,
        max(last_reference_date) filter (
            where raw_table = 'opendata_package'
        ) as catalogue_as_of_date
    from int_source_coverage
    group by ward_code
),

indicators_from_the_catalogue as (
    select distinct indicator_id
    from int_indicator_source_tables
    where raw_table = 'opendata_package'
),

as_of_dates as (
    select
        ward_as_of_dates.ward_code,
        computed_indicators.indicator_id,
        case
            when indicators_from_the_catalogue.indicator_id is not null
                then ward_as_of_dates.catalogue_as_of_date
            else ward_as_of_dates.exports_as_of_date
        end as as_of_date
    from ward_as_of_dates
    cross join computed_indicators
    left join indicators_from_the_catalogue
        on computed_indicators.indicator_id = indicators_from_the_catalogue.indicator_id
),

values_with_targets as (
    select
        spine_by_indicator.ward_code,
        spine_by_indicator.fiscal_year,
        spine_by_indicator.indicator_id,
        cast(kpi_values.value as double) as value,
        cast(kpi_values.numerator as double) as numerator,
        cast(kpi_values.denominator as double) as denominator,
        coalesce(kpi_values.is_reconstructed, false) as is_reconstructed,
        as_of_dates.as_of_date,
        {{ fiscal_year_end_date('spine_by_indicator.fiscal_year') }} as fiscal_year_end_date,
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
    left join as_of_dates
        on
            spine_by_indicator.ward_code = as_of_dates.ward_code
            and spine_by_indicator.indicator_id = as_of_dates.indicator_id
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
        coalesce(as_of_date < fiscal_year_end_date, true) as is_provisional,
        case
            when value is null then 'no_data'
            -- The year is not over in the data: judged when it is, never not_achieved before.
            when as_of_date is null or as_of_date < fiscal_year_end_date then 'provisional'
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
        is_reconstructed,
        as_of_date,
        is_provisional,
        status
    from values_with_status
)

select * from final
