{#- A value of `column_name` (研修区分 of the plans, 受講状況 of the enrolments) that a ward's
    rows had in the fiscal year before its latest complete one and that none of them has in
    it: a programme dropped, an export that now leaves some rows out, or a ward that files
    them under another value. A fiscal year is complete for a ward once the model has rows
    exported after the year ended (the next year's plan, the year-end enrolment export): no
    row can be added to it any more.
    A row belongs to its `fiscal_year` column, or with `dated_by` to the fiscal year of that
    date (an enrolment's 申込日). A value seen fewer than `min_previous_rows` times the year
    before may vanish by chance and is not reported. "<ward_code>:<value>" pairs in the var
    accepted_vanished_values are vanishings the operator accepted. `rows_name` names the
    previous year's count in the failing rows (previous_year_courses).
    Fails with one row per ward and vanished value, naming the files of both years. -#}
{% test values_persist_into_latest_complete_fiscal_year(
    model, column_name, rows_name, dated_by=none, min_previous_rows=1
) %}
    {%- set accepted = var('accepted_vanished_values') | map('string') | list %}
    {%- set row_fiscal_year = fiscal_year_of(dated_by) if dated_by else 'fiscal_year' %}

    with

    rows_with_values as (
        select * from {{ model }}
    ),

    rows_by_fiscal_year as (
        select
            ward_code,
            reference_date,
            source_file,
            {{ column_name }},
            {{ row_fiscal_year }} as fiscal_year
        from rows_with_values
    ),

    latest_complete_fiscal_years as (
        select
            ward_code,
            {{ fiscal_year_of('max(reference_date)') }} - 1 as fiscal_year
        from rows_by_fiscal_year
        group by ward_code
    ),

    rows_by_value as (
        select
            ward_code,
            fiscal_year,
            {{ column_name }},
            count(*) as value_rows,
            string_agg(distinct source_file, ', ' order by source_file) as source_files
        from rows_by_fiscal_year
        where {{ column_name }} is not null and fiscal_year is not null
        group by ward_code, fiscal_year, {{ column_name }}
    ),

    source_files_by_fiscal_year as (
        select
            ward_code,
            fiscal_year,
            string_agg(distinct source_file, ', ' order by source_file) as source_files
        from rows_by_fiscal_year
        where fiscal_year is not null
        group by ward_code, fiscal_year
    ),

    previous_year_values as (
        select
            latest_complete_fiscal_years.ward_code,
            latest_complete_fiscal_years.fiscal_year,
            rows_by_value.{{ column_name }},
            rows_by_value.value_rows as previous_year_{{ rows_name }},
            rows_by_value.source_files as previous_year_source_files
        from latest_complete_fiscal_years
        inner join rows_by_value
            on
                latest_complete_fiscal_years.ward_code = rows_by_value.ward_code
                and latest_complete_fiscal_years.fiscal_year - 1 = rows_by_value.fiscal_year
        where rows_by_value.value_rows >= {{ min_previous_rows }}
    ),

    vanished_values as (
        select
            previous_year_values.ward_code,
            previous_year_values.fiscal_year,
            previous_year_values.{{ column_name }},
            previous_year_values.previous_year_{{ rows_name }},
            previous_year_values.previous_year_source_files,
            source_files_by_fiscal_year.source_files as fiscal_year_source_files
        from previous_year_values
        left join rows_by_value
            on
                previous_year_values.ward_code = rows_by_value.ward_code
                and previous_year_values.fiscal_year = rows_by_value.fiscal_year
                and previous_year_values.{{ column_name }} = rows_by_value.{{ column_name }}
        left join source_files_by_fiscal_year
            on
                previous_year_values.ward_code = source_files_by_fiscal_year.ward_code
                and previous_year_values.fiscal_year = source_files_by_fiscal_year.fiscal_year
        where
            rows_by_value.{{ column_name }} is null
            and not list_contains(
                cast({{ accepted }} as varchar[]),
                previous_year_values.ward_code || ':' || previous_year_values.{{ column_name }}
            )
    )

    select * from vanished_values

{% endtest %}
