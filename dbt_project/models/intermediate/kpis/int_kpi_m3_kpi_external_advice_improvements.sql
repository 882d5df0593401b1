-- 外部人材の助言に基づき実現した政策・事業改善件数: DX projects completed (状態 完了) with their end
-- date in FY and flagged as based on external specialists' advice (外部人材助言 有).
-- No data when the project register has not spoken for FY (no export dated on or after FY
-- start, empty ones included); spoken and no such project counts 0.
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_source_coverage as (
    select * from {{ ref('int_source_coverage') }}
),

int_dx_projects_deduplicated as (
    select * from {{ ref('int_dx_projects_deduplicated') }}
),

dx_project_coverage as (
    select
        ward_code,
        last_reference_date
    from int_source_coverage
    where raw_table = 'dx_office_dx_project'
),

fiscal_years as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        {{ fiscal_year_start_date('int_fiscal_year_spine.fiscal_year') }}
            as fiscal_year_start_date,
        {{ fiscal_year_end_date('int_fiscal_year_spine.fiscal_year') }} as fiscal_year_end_date,
        {{ has_spoken_for_fiscal_year(
            'dx_project_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }} as dx_project_has_spoken
    from int_fiscal_year_spine
    left join dx_project_coverage
        on int_fiscal_year_spine.ward_code = dx_project_coverage.ward_code
),

improvement_counts as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        count(distinct int_dx_projects_deduplicated.project_id) as improvement_count
    from fiscal_years
    inner join int_dx_projects_deduplicated
        on fiscal_years.ward_code = int_dx_projects_deduplicated.ward_code
    where
        int_dx_projects_deduplicated.project_status = '完了'
        and int_dx_projects_deduplicated.external_advice = '有'
        and int_dx_projects_deduplicated.ended_on
        between fiscal_years.fiscal_year_start_date and fiscal_years.fiscal_year_end_date
    group by fiscal_years.ward_code, fiscal_years.fiscal_year
),

counts_where_spoken as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        case
            when fiscal_years.dx_project_has_spoken
                then coalesce(improvement_counts.improvement_count, 0)
        end as improvement_count
    from fiscal_years
    left join improvement_counts
        on
            fiscal_years.ward_code = improvement_counts.ward_code
            and fiscal_years.fiscal_year = improvement_counts.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        improvement_count as numerator,
        cast(null as bigint) as denominator,
        cast(improvement_count as double) as value
    from counts_where_spoken
)

select * from final
