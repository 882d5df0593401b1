{#- "Has spoken" (zero vs no data): a dataset has spoken for (ward, FY) when the ward has a
    loaded export of it, empty ones included, whose reference date (基準日) is on or after the
    FY's start (April 1). `last_reference_date_expression` is int_source_coverage's
    last_reference_date of the ward and raw table; false, never null, when the ward never sent
    the dataset. A count whose every source has spoken is 0 when nothing matches; otherwise it
    is no data. -#}
{% macro has_spoken_for_fiscal_year(last_reference_date_expression, fiscal_year_expression) -%}
    coalesce(
        {{ last_reference_date_expression }}
        >= {{ fiscal_year_start_date(fiscal_year_expression) }},
        false
    )
{%- endmacro %}
