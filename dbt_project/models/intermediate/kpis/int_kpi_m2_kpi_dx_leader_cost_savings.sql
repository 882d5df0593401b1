-- DX推進リーダーが主導した業務改善によるコスト削減額: sum of the realised annual savings in yen
-- (削減効果額(年額), blank counts 0) of DX projects completed (状態 完了) with their end date in FY
-- whose leader held a DX-leader certification valid on that end date: certified on or before
-- it, and no lapse date (失効年月日) or one after it. A leader holding several valid
-- certifications does not count the project twice.
-- No data when the project register or the certification register has not spoken for FY (no
-- export dated on or after FY start, empty ones included); both spoken and no such project
-- sums 0.
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

int_dx_leader_certifications_deduplicated as (
    select * from {{ ref('int_dx_leader_certifications_deduplicated') }}
),

dx_project_coverage as (
    select
        ward_code,
        last_reference_date
    from int_source_coverage
    where raw_table = 'dx_office_dx_project'
),

certification_coverage as (
    select
        ward_code,
        last_reference_date
    from int_source_coverage
    where raw_table = 'hr_dx_leader_certification'
),

fiscal_years as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        {{ has_spoken_for_fiscal_year(
            'dx_project_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }}
        and {{ has_spoken_for_fiscal_year(
            'certification_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }} as every_source_has_spoken
    from int_fiscal_year_spine
    left join dx_project_coverage
        on int_fiscal_year_spine.ward_code = dx_project_coverage.ward_code
    left join certification_coverage
        on int_fiscal_year_spine.ward_code = certification_coverage.ward_code
),

completed_projects as (
    select
        ward_code,
        project_id,
        leader_staff_id,
        ended_on,
        {{ fiscal_year_of('ended_on') }} as fiscal_year,
        coalesce(annual_savings_yen, 0) as annual_savings_yen
    from int_dx_projects_deduplicated
    where project_status = '完了' and ended_on is not null
),

projects_led_by_certified_leaders as (
    -- distinct: one project, however many valid certifications its leader holds.
    select distinct
        completed_projects.ward_code,
        completed_projects.fiscal_year,
        completed_projects.project_id,
        completed_projects.annual_savings_yen
    from completed_projects
    inner join int_dx_leader_certifications_deduplicated
        on
            completed_projects.ward_code = int_dx_leader_certifications_deduplicated.ward_code
            and completed_projects.leader_staff_id
            = int_dx_leader_certifications_deduplicated.staff_id
    where
        int_dx_leader_certifications_deduplicated.certified_on <= completed_projects.ended_on
        and (
            int_dx_leader_certifications_deduplicated.lapsed_on is null
            or int_dx_leader_certifications_deduplicated.lapsed_on > completed_projects.ended_on
        )
),

savings_totals as (
    select
        ward_code,
        fiscal_year,
        sum(annual_savings_yen) as annual_savings_yen
    from projects_led_by_certified_leaders
    group by ward_code, fiscal_year
),

savings_where_spoken as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        case
            when fiscal_years.every_source_has_spoken
                then cast(coalesce(savings_totals.annual_savings_yen, 0) as bigint)
        end as annual_savings_yen
    from fiscal_years
    left join savings_totals
        on
            fiscal_years.ward_code = savings_totals.ward_code
            and fiscal_years.fiscal_year = savings_totals.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        annual_savings_yen as numerator,
        cast(null as bigint) as denominator,
        cast(annual_savings_yen as double) as value
    from savings_where_spoken
)

select * from final
