{#- The primary key of a model that spans several columns (ward_code + fiscal_year + ...):
    written here because dbt packages (dbt_utils) cannot be installed offline.
    Fails with one row per duplicated key. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set key_columns = combination_of_columns | join(', ') %}

    with key_counts as (
        select
            {{ key_columns }},
            count(*) as row_count
        from {{ model }}
        group by {{ key_columns }}
    )

    select *
    from key_counts
    where row_count > 1
{% endtest %}
