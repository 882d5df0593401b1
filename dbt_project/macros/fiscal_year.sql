{#- 年度 (fiscal year) N runs from April 1 of N to March 31 of N+1 (JST dates):
    January-March belong to the fiscal year that started the previous calendar year. -#}
{% macro fiscal_year_of(date_expression) -%}
    cast(
        year({{ date_expression }})
        - case when month({{ date_expression }}) < 4 then 1 else 0 end
        as integer
    )
{%- endmacro %}

{% macro fiscal_year_start_date(fiscal_year_expression) -%}
    make_date(cast({{ fiscal_year_expression }} as integer), 4, 1)
{%- endmacro %}

{% macro fiscal_year_end_date(fiscal_year_expression) -%}
    make_date(cast({{ fiscal_year_expression }} as integer) + 1, 3, 31)
{%- endmacro %}
