-- デジタルスキルマップへの職員登録率: 100 * |population(FY) members with at least one skill-map
-- assessment (評価年月日) dated in FY| / |population(FY)|, in percent.
-- No data when FY has no roster snapshot (no population) or when the skill map has not spoken
-- for FY (no export dated on or after FY start): then the numerator is null too.
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_source_coverage as (
    select * from {{ ref('int_source_coverage') }}
),

int_population_members_by_fiscal_year as (
    select * from {{ ref('int_population_members_by_fiscal_year') }}
),

int_skill_assessments_deduplicated as (
    select * from {{ ref('int_skill_assessments_deduplicated') }}
),

skill_assessment_coverage as (
    select
        ward_code,
        last_reference_date
    from int_source_coverage
    where raw_table = 'hr_skill_assessment'
),

fiscal_years as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        {{ has_spoken_for_fiscal_year(
            'skill_assessment_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }} as skill_assessment_has_spoken
    from int_fiscal_year_spine
    left join skill_assessment_coverage
        on int_fiscal_year_spine.ward_code = skill_assessment_coverage.ward_code
),

staff_assessed_by_fiscal_year as (
    select distinct
        ward_code,
        {{ fiscal_year_of('assessed_on') }} as fiscal_year,
        staff_id
    from int_skill_assessments_deduplicated
),

population_sizes as (
    select
        ward_code,
        fiscal_year,
        count(*) as population_size
    from int_population_members_by_fiscal_year
    group by ward_code, fiscal_year
),

registered_member_counts as (
    select
        int_population_members_by_fiscal_year.ward_code,
        int_population_members_by_fiscal_year.fiscal_year,
        count(*) as registered_member_count
    from int_population_members_by_fiscal_year
    inner join staff_assessed_by_fiscal_year
        on
            int_population_members_by_fiscal_year.ward_code
            = staff_assessed_by_fiscal_year.ward_code
            and int_population_members_by_fiscal_year.fiscal_year
            = staff_assessed_by_fiscal_year.fiscal_year
            and int_population_members_by_fiscal_year.staff_id
            = staff_assessed_by_fiscal_year.staff_id
    group by
        int_population_members_by_fiscal_year.ward_code,
        int_population_members_by_fiscal_year.fiscal_year
),

counts_where_measured as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        population_sizes.population_size,
        case
            when
                fiscal_years.skill_assessment_has_spoken
                and population_sizes.ward_code is not null
                then coalesce(registered_member_counts.registered_member_count, 0)
        end as registered_member_count
    from fiscal_years
    left join population_sizes
        on
            fiscal_years.ward_code = population_sizes.ward_code
            and fiscal_years.fiscal_year = population_sizes.fiscal_year
    left join registered_member_counts
        on
            fiscal_years.ward_code = registered_member_counts.ward_code
            and fiscal_years.fiscal_year = registered_member_counts.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        registered_member_count as numerator,
        population_size as denominator,
        case
            when population_size > 0
                then 100.0 * registered_member_count / population_size
        end as value
    from counts_where_measured
)

select * from final
