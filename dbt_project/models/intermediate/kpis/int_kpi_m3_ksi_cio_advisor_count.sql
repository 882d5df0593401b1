-- CIO補佐官（または同等の外部専門職）の配置数: external-specialist contracts with the role (職名)
-- CIO補佐官 active at FY end: term started on or before FY end, and no term end or a term end
-- on or after FY end (an advisor whose term ends on March 31 is still in post that day).
-- Counted by contract. No data when the contract register has not spoken for FY (no export
-- dated on or after FY start, empty ones included); spoken and no advisor counts 0.
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

advisor_counts as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        count(distinct int_external_specialist_contracts_deduplicated.contract_id) as advisor_count
    from fiscal_years
    inner join int_external_specialist_contracts_deduplicated
        on fiscal_years.ward_code = int_external_specialist_contracts_deduplicated.ward_code
    where
        int_external_specialist_contracts_deduplicated.specialist_role = 'CIO補佐官'
        and int_external_specialist_contracts_deduplicated.term_start
        <= fiscal_years.fiscal_year_end_date
        and (
            int_external_specialist_contracts_deduplicated.term_end is null
            or int_external_specialist_contracts_deduplicated.term_end
            >= fiscal_years.fiscal_year_end_date
        )
    group by fiscal_years.ward_code, fiscal_years.fiscal_year
),

counts_where_spoken as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        case
            when fiscal_years.external_specialist_has_spoken
                then coalesce(advisor_counts.advisor_count, 0)
        end as advisor_count
    from fiscal_years
    left join advisor_counts
        on
            fiscal_years.ward_code = advisor_counts.ward_code
            and fiscal_years.fiscal_year = advisor_counts.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        advisor_count as numerator,
        cast(null as bigint) as denominator,
        cast(advisor_count as double) as value
    from counts_where_spoken
)

select * from final
