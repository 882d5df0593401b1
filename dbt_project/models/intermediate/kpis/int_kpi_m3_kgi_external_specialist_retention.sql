-- 外部専門人材の契約更新率（定着率）: among the external-specialist contracts whose term ends (任期終了日)
-- in FY, the share followed by a renewal (契約区分 更新) for the same person starting after the end
-- date and at most 31 days after it, in percent. A renewal starting 40 days late, or a new hire
-- (新規) of the same person, does not count. numerator = contracts renewed, denominator =
-- contracts ending in FY; each contract counts once however many renewals follow it.
-- No data when no contract ends in FY, or when the contract register has not spoken for FY
-- (no export dated on or after FY start, empty ones included).
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
        {{ has_spoken_for_fiscal_year(
            'external_specialist_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }} as external_specialist_has_spoken
    from int_fiscal_year_spine
    left join external_specialist_coverage
        on int_fiscal_year_spine.ward_code = external_specialist_coverage.ward_code
),

contracts_ending as (
    select
        ward_code,
        contract_id,
        staff_id,
        term_end,
        {{ fiscal_year_of('term_end') }} as fiscal_year
    from int_external_specialist_contracts_deduplicated
    where term_end is not null
),

renewed_contracts as (
    select distinct
        contracts_ending.ward_code,
        contracts_ending.contract_id
    from contracts_ending
    inner join int_external_specialist_contracts_deduplicated as renewals
        on
            contracts_ending.ward_code = renewals.ward_code
            and contracts_ending.staff_id = renewals.staff_id
    where
        renewals.contract_type = '更新'
        and renewals.term_start > contracts_ending.term_end
        and renewals.term_start <= contracts_ending.term_end + 31
),

retention_counts as (
    select
        contracts_ending.ward_code,
        contracts_ending.fiscal_year,
        count(*) as ending_contract_count,
        count(renewed_contracts.contract_id) as renewed_contract_count
    from contracts_ending
    left join renewed_contracts
        on
            contracts_ending.ward_code = renewed_contracts.ward_code
            and contracts_ending.contract_id = renewed_contracts.contract_id
    group by contracts_ending.ward_code, contracts_ending.fiscal_year
),

counts_where_spoken as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        case
            when fiscal_years.external_specialist_has_spoken
                then coalesce(retention_counts.renewed_contract_count, 0)
        end as renewed_contract_count,
        case
            when fiscal_years.external_specialist_has_spoken
                then coalesce(retention_counts.ending_contract_count, 0)
        end as ending_contract_count
    from fiscal_years
    left join retention_counts
        on
            fiscal_years.ward_code = retention_counts.ward_code
            and fiscal_years.fiscal_year = retention_counts.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        renewed_contract_count as numerator,
        ending_contract_count as denominator,
        case
            when ending_contract_count > 0
                then 100.0 * renewed_contract_count / ending_contract_count
        end as value
    from counts_where_spoken
)

select * from final
