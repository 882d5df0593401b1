-- デジタル専門職向けキャリアパス制度の導入: 1 when a regulation of type (規程区分) デジタル専門職キャリアパス
-- is in force at FY end: in effect (施行日) on or before FY end and not repealed (廃止日 blank,
-- or after FY end: a regulation repealed on March 31 is no longer in force at FY end). Else 0.
-- A regulation repealed and replaced the same day by a revised one stays 1 through the other.
-- No data when the regulation register has not spoken for FY (no export dated on or after FY
-- start, empty ones included).
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_source_coverage as (
    select * from {{ ref('int_source_coverage') }}
),

int_regulations_deduplicated as (
    select * from {{ ref('int_regulations_deduplicated') }}
),

regulation_coverage as (
    select
        ward_code,
        last_reference_date
    from int_source_coverage
    where raw_table = 'hr_hr_regulation'
),

fiscal_years as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        {{ fiscal_year_end_date('int_fiscal_year_spine.fiscal_year') }} as fiscal_year_end_date,
        {{ has_spoken_for_fiscal_year(
            'regulation_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }} as regulation_has_spoken
    from int_fiscal_year_spine
    left join regulation_coverage
        on int_fiscal_year_spine.ward_code = regulation_coverage.ward_code
),

career_path_in_force as (
    select distinct
        fiscal_years.ward_code,
        fiscal_years.fiscal_year
    from fiscal_years
    inner join int_regulations_deduplicated
        on fiscal_years.ward_code = int_regulations_deduplicated.ward_code
    where
        int_regulations_deduplicated.regulation_type = 'デジタル専門職キャリアパス'
        and int_regulations_deduplicated.effective_on <= fiscal_years.fiscal_year_end_date
        and (
            int_regulations_deduplicated.repealed_on is null
            or int_regulations_deduplicated.repealed_on > fiscal_years.fiscal_year_end_date
        )
),

flags_where_spoken as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        case
            when fiscal_years.regulation_has_spoken
                then cast(career_path_in_force.ward_code is not null as integer)
        end as career_path_flag
    from fiscal_years
    left join career_path_in_force
        on
            fiscal_years.ward_code = career_path_in_force.ward_code
            and fiscal_years.fiscal_year = career_path_in_force.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        career_path_flag as numerator,
        cast(null as bigint) as denominator,
        cast(career_path_flag as double) as value
    from flags_where_spoken
)

select * from final
