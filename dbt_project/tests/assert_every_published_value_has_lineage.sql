-- Every published value can be traced to at least one export file (fct_kpi_lineage): a
-- value without lineage means a KPI model reads a source its indicator does not name.
{{ config(meta={'dagster': {'ref': {'name': 'fct_kpi_lineage'}}}) }}
with

fct_kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

fct_kpi_lineage as (
    select * from {{ ref('fct_kpi_lineage') }}
),

values_without_lineage as (
    select
        fct_kpi_values.ward_code,
        fct_kpi_values.fiscal_year,
        fct_kpi_values.indicator_id
    from fct_kpi_values
    left join fct_kpi_lineage
        on
            fct_kpi_values.ward_code = fct_kpi_lineage.ward_code
            and fct_kpi_values.fiscal_year = fct_kpi_lineage.fiscal_year
            and fct_kpi_values.indicator_id = fct_kpi_lineage.indicator_id
    where fct_kpi_values.value is not null and fct_kpi_lineage.source_file is null
),

final as (
    select * from values_without_lineage
)

select * from final
