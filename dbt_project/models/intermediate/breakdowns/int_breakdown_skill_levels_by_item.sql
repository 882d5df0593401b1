-- Interior cells of the skill-level table: per スキル項目コード (skill item, S01..S22), the
-- population(FY) members whose latest assessment of that item dated in FY is at level 1, 2, 3
-- or 4. The members and the dating are those of デジタルスキルマップへの職員登録率
-- (int_kpi_m2_kpi_skill_map_registration), for the fiscal years it has a value. Every item
-- somebody was assessed on has all four levels, zeros included: the disclosure control must
-- see the zeros.
with

int_kpi_m2_kpi_skill_map_registration as (
    select * from {{ ref('int_kpi_m2_kpi_skill_map_registration') }}
),

int_population_members_by_fiscal_year as (
    select * from {{ ref('int_population_members_by_fiscal_year') }}
),

int_skill_assessments_deduplicated as (
    select * from {{ ref('int_skill_assessments_deduplicated') }}
),

measured_fiscal_years as (
    select
        ward_code,
        fiscal_year
    from int_kpi_m2_kpi_skill_map_registration
    where value is not null
),

skill_levels as (
    select unnest([1, 2, 3, 4]) as skill_level
),

assessments_by_fiscal_year as (
    -- A level outside the map's 1..4 says nothing about the level: left out (the raw-layer
    -- suites report it).
    select
        ward_code,
        {{ fiscal_year_of('assessed_on') }} as fiscal_year,
        staff_id,
        skill_item_code,
        assessed_on,
        skill_level
    from int_skill_assessments_deduplicated
    where skill_level between 1 and 4
),

latest_member_assessments as (
    select assessments_by_fiscal_year.*
    from assessments_by_fiscal_year
    inner join measured_fiscal_years
        on
            assessments_by_fiscal_year.ward_code = measured_fiscal_years.ward_code
            and assessments_by_fiscal_year.fiscal_year = measured_fiscal_years.fiscal_year
    inner join int_population_members_by_fiscal_year
        on
            assessments_by_fiscal_year.ward_code
            = int_population_members_by_fiscal_year.ward_code
            and assessments_by_fiscal_year.fiscal_year
            = int_population_members_by_fiscal_year.fiscal_year
            and assessments_by_fiscal_year.staff_id
            = int_population_members_by_fiscal_year.staff_id
    qualify row_number() over (
        partition by
            assessments_by_fiscal_year.ward_code,
            assessments_by_fiscal_year.fiscal_year,
            assessments_by_fiscal_year.staff_id,
            assessments_by_fiscal_year.skill_item_code
        order by assessments_by_fiscal_year.assessed_on desc
    ) = 1
),

items_assessed as (
    select distinct
        ward_code,
        fiscal_year,
        skill_item_code
    from latest_member_assessments
),

member_counts as (
    select
        ward_code,
        fiscal_year,
        skill_item_code,
        skill_level,
        count(*) as people
    from latest_member_assessments
    group by all
),

cells as (
    select
        items_assessed.ward_code,
        items_assessed.fiscal_year,
        items_assessed.skill_item_code as skill_item,
        skill_levels.skill_level,
        coalesce(member_counts.people, 0) as people
    from items_assessed
    cross join skill_levels
    left join member_counts
        on
            items_assessed.ward_code = member_counts.ward_code
            and items_assessed.fiscal_year = member_counts.fiscal_year
            and items_assessed.skill_item_code = member_counts.skill_item_code
            and skill_levels.skill_level = member_counts.skill_level
),

final as (
    select * from cells
)

select * from final
