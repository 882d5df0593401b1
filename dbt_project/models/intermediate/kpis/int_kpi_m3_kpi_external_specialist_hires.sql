-- 外部専門人材の年間採用数: external-specialist contracts of a hire (契約区分 新規, not a renewal
-- 更新) whose term starts in FY.
-- No data when the contract register has not spoken for FY (no export dated on or after FY
-- start, empty ones included); spoken and no hire counts 0.
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_source_coverage as (
    select * from {{ ref('int_source_coverage') }}
),

int_external_specialist_contracts_deduplicated as (
    select * from {{ ref('int_external_specialist_contracts_deduplicated') }}
),

external_specialist_coverage as (
    select
        ward_code,
        last_reference_date
    from int_source_coverage
    where raw_table = 'hr_external_specialist'
),

fiscal_years as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        {{ fiscal_year_start_date('int_fiscal_year_spine.fiscal_year') }}
            as fiscal_year_start_date,
        {{ fiscal_year_end_date('int_fiscal_year_spine.fiscal_year') }} as fiscal_year_end_date,
        {{ has_spoken_for_fiscal_year(
            'external_specialist_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }} as external_specialist_has_spoken
    from int_fiscal_year_spine
    left join external_specialist_coverage
        on int_fiscal_year_spine.ward_code = external_specialist_coverage.ward_code
),

hire_counts as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        count(distinct int_external_specialist_contracts_deduplicated.contract_id) as hire_count
    from fiscal_years
    inner join int_external_specialist_contracts_deduplicated
        on fiscal_years.ward_code = int_external_specialist_contracts_deduplicated.ward_code
    where
        int_external_specialist_contracts_deduplicated.contract_type = '新規'
        and int_external_specialist_contracts_deduplicated.term_start
        between fiscal_years.fiscal_year_start_date and fiscal_years.fiscal_year_end_date
    group by fiscal_years.ward_code, fiscal_years.fiscal_year
),

counts_where_spoken as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        case
            when fiscal_years.external_specialist_has_spoken
                then coalesce(hire_counts.hire_count, 0)
        end as hire_count
    from fiscal_years
    left join hire_counts
        on
            fiscal_years.ward_code = hire_counts.ward_code
            and fiscal_years.fiscal_year = hire_counts.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        hire_count as numerator,
        cast(null as bigint) as denominator,
        cast(hire_count as double) as value
    from counts_where_spoken
)

select * from final
