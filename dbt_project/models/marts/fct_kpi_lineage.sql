-- From a published number to the exports behind it: for every ward x fiscal year x
-- indicator with a value, the files of the indicator's sources that value was computed from
-- (int_source_file_fiscal_years says which years each file can inform), with their SHA-256
-- and reference date (基準日), so that an auditor can fetch the very bytes from the landing
-- zone or the ledger.
with

fct_kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

int_indicator_source_tables as (
    select * from {{ ref('int_indicator_source_tables') }}
),

int_source_file_fiscal_years as (
    select * from {{ ref('int_source_file_fiscal_years') }}
),

published_values as (
    select
        ward_code,
        fiscal_year,
        indicator_id
    from fct_kpi_values
    where value is not null
),

final as (
    select
        published_values.ward_code,
        published_values.fiscal_year,
        published_values.indicator_id,
        int_source_file_fiscal_years.raw_table,
        int_source_file_fiscal_years.source_file,
        int_source_file_fiscal_years.file_sha256,
        int_source_file_fiscal_years.reference_date
    from published_values
    inner join int_indicator_source_tables
        on published_values.indicator_id = int_indicator_source_tables.indicator_id
    inner join int_source_file_fiscal_years
        on
            published_values.ward_code = int_source_file_fiscal_years.ward_code
            and int_indicator_source_tables.raw_table = int_source_file_fiscal_years.raw_table
            and coalesce(
                published_values.fiscal_year >= int_source_file_fiscal_years.first_fiscal_year,
                true
            )
            and coalesce(
                published_values.fiscal_year <= int_source_file_fiscal_years.last_fiscal_year,
                true
            )
)

select * from final
