{#- A model's grain and its required columns, checked in one test: the key (one or more
    columns) names at most one row, and the required columns hold no null. One test per
    model rather than one per column and one per key: each test is a node dbt runs and an
    asset check Dagster records (about 30 ms and three stored events each), which cost more
    than the scans. Fails with one row per problem: a column that holds nulls (`null`, the
    column, its null rows), and a key that repeats (`duplicate key`, the key's columns, the
    number of key values held by more than one row, and the smallest of them). -#}
{% test model_integrity(model, key=[], not_null=[]) %}

    {%- set problems = [] %}
    with

    {%- if not_null %}
        null_counts as (
            select
                {%- for column in not_null %}
                count(*) filter (where {{ adapter.quote(column) }} is null)
                    as {{ adapter.quote(column) }}{{ "," if not loop.last }}
                {%- endfor %}
            from {{ model }}
        ),

        null_columns as (
            select
                'null' as problem,
                column_name,
                null_rows as failing_rows,
                null::varchar as example
            from (
                unpivot null_counts
                on {% for column in not_null %}{{ adapter.quote(column) }}{{ ", " if not loop.last }}{% endfor %}
                into name column_name value null_rows
            )
            where null_rows > 0
        ),
        {%- do problems.append('null_columns') %}
    {%- endif %}

    {%- if key %}
        {%- set key_columns = key | join(', ') %}
        repeated_keys as (
            select
                'duplicate key' as problem,
                '{{ key_columns }}' as column_name,
                count(*) as failing_rows,
                min(key_value) as example
            from (
                select concat_ws(' | ', {% for column in key %}{{ adapter.quote(column) }}::varchar{{ ", " if not loop.last }}{% endfor %}) as key_value
                from {{ model }}
                group by {{ key_columns }}
                having count(*) > 1
            )
            having count(*) > 0
        ),
        {%- do problems.append('repeated_keys') %}
    {%- endif %}

    failures as (
        {%- for relation in problems %}
        select * from {{ relation }}
        {{ "union all" if not loop.last }}
        {%- endfor %}
    )

    select * from failures

{% endtest %}
