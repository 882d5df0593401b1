-- 全職員のデジタル基礎研修受講率: 100 * |population(FY) members who completed (修了, completion
-- date in FY) every mandatory (必修) digital-basics (デジタル基礎) course of FY| / |population(FY)|.
-- No data when FY has no mandatory digital-basics course (nothing to complete) or no roster
-- snapshot (no population). Who completed: int_mandatory_basic_training_completion_by_member.
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_population_members_by_fiscal_year as (
    select * from {{ ref('int_population_members_by_fiscal_year') }}
),

int_mandatory_basic_training_completion_by_member as (
    select * from {{ ref('int_mandatory_basic_training_completion_by_member') }}
),

completer_counts as (
    select
        ward_code,
        fiscal_year,
        count(*) filter (where has_completed) as completer_count
    from int_mandatory_basic_training_completion_by_member
    group by ward_code, fiscal_year
),

population_sizes as (
    select
        ward_code,
        fiscal_year,
        count(*) as population_size
    from int_population_members_by_fiscal_year
    group by ward_code, fiscal_year
),

final as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        completer_counts.completer_count as numerator,
        population_sizes.population_size as denominator,
        case
            when population_sizes.population_size > 0
                then 100.0 * completer_counts.completer_count / population_sizes.population_size
        end as value
    from int_fiscal_year_spine
    left join completer_counts
        on
            int_fiscal_year_spine.ward_code = completer_counts.ward_code
            and int_fiscal_year_spine.fiscal_year = completer_counts.fiscal_year
    left join population_sizes
        on
            int_fiscal_year_spine.ward_code = population_sizes.ward_code
            and int_fiscal_year_spine.fiscal_year = population_sizes.fiscal_year
)

select * from final
