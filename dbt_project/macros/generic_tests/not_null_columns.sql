{#- The columns of a model that may hold no null, checked in one scan: one test per model
    rather than one per column (each test is a node dbt runs and an asset check Dagster
    records, so 180 single-column tests cost more than the scans). Fails with one row per
    column that holds nulls, naming it and counting them. -#}
{% test not_null_columns(model, columns) %}

    with null_counts as (
        select
            {%- for column in columns %}
            count(*) filter (where {{ adapter.quote(column) }} is null)
                as {{ adapter.quote(column) }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ model }}
    ),

    columns_with_nulls as (
        unpivot null_counts
        on {% for column in columns %}{{ adapter.quote(column) }}{{ ", " if not loop.last }}{% endfor %}
        into name column_name value null_rows
    )

    select column_name, null_rows
    from columns_with_nulls
    where null_rows > 0

{% endtest %}
