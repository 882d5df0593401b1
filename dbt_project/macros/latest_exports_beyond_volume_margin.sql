{#- The volume rules: each ward's newest export against the export before it, so that an
    anomaly of the past does not stay red. `exports` (a CTE) has one row per export file:
    ward_code, the `compared_within` columns after it, reference_date, source_file and its
    row count `rows_column`. The previous export is the one before in the same
    `compared_within` group (ward_code, or ward_code and fiscal_year where each export of a
    year carries the whole year so far).
    Returns the newest exports whose count moved by more than `margin` (a share: 0.2 = 20%),
    either way or, with `falls_only`, downwards: the group's columns, latest_ and previous_
    reference_date, source_file and `rows_column`, relative_change and margin. Used by the
    generic test roster_volume_within_margin and the singular test
    assert_enrollment_exports_keep_their_fiscal_year_volume. -#}
{% macro latest_exports_beyond_volume_margin(
    exports, rows_column, margin, compared_within=['ward_code'], falls_only=false
) %}
    {%- set group_columns = compared_within | join(', ') %}
    {%- set margin_share = 'cast(' ~ margin ~ ' as double)' %}

    with

    exports_with_their_previous as (
        select
            {{ group_columns }},
            reference_date,
            source_file,
            {{ rows_column }},
            lag(reference_date) over same_group as previous_reference_date,
            lag(source_file) over same_group as previous_source_file,
            lag({{ rows_column }}) over same_group as previous_{{ rows_column }},
            row_number() over (
                partition by ward_code order by reference_date desc
            ) as recency
        from {{ exports }}
        window same_group as (partition by {{ group_columns }} order by reference_date)
    ),

    latest_exports_compared as (
        select
            {{ group_columns }},
            reference_date as latest_reference_date,
            source_file as latest_source_file,
            {{ rows_column }} as latest_{{ rows_column }},
            previous_reference_date,
            previous_source_file,
            previous_{{ rows_column }},
            ({{ rows_column }} - previous_{{ rows_column }})
            / previous_{{ rows_column }} as relative_change
        from exports_with_their_previous
        where recency = 1 and previous_{{ rows_column }} is not null
    ),

    changes_beyond_margin as (
        select
            {{ group_columns }},
            latest_reference_date,
            latest_source_file,
            latest_{{ rows_column }},
            previous_reference_date,
            previous_source_file,
            previous_{{ rows_column }},
            round(relative_change, 3) as relative_change,
            {{ margin_share }} as margin
        from latest_exports_compared
        {% if falls_only -%}
            where relative_change < -{{ margin_share }}
        {%- else -%}
            where abs(relative_change) > {{ margin_share }}
        {%- endif %}
    )

    select * from changes_beyond_margin
{% endmacro %}
