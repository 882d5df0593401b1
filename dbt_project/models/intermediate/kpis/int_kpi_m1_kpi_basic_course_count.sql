-- 提供するデジタル基礎研修コース数: distinct digital-basics (デジタル基礎) courses in the FY's plan.
-- No data when the ward's plan for FY has no course at all; a plan without digital-basics
-- courses counts 0.
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_training_courses_deduplicated as (
    select * from {{ ref('int_training_courses_deduplicated') }}
),

basic_course_counts as (
    select
        ward_code,
        fiscal_year,
        count(distinct course_code) filter (
            where category = 'デジタル基礎'
        ) as basic_course_count
    from int_training_courses_deduplicated
    where fiscal_year is not null
    group by ward_code, fiscal_year
),

final as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        basic_course_counts.basic_course_count as numerator,
        cast(null as bigint) as denominator,
        cast(basic_course_counts.basic_course_count as double) as value
    from int_fiscal_year_spine
    left join basic_course_counts
        on
            int_fiscal_year_spine.ward_code = basic_course_counts.ward_code
            and int_fiscal_year_spine.fiscal_year = basic_course_counts.fiscal_year
)

select * from final
