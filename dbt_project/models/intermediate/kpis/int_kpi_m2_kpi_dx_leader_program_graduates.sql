-- DX推進リーダー育成プログラムの年間修了者数: distinct staff who completed (修了) a course of the
-- DX-leader programme (DX推進リーダー育成) with completion date in FY. No data when the ward has
-- no enrolment applied or completed in FY; enrolment activity without graduates counts 0.
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_training_enrollments_deduplicated as (
    select * from {{ ref('int_training_enrollments_deduplicated') }}
),

int_training_courses_deduplicated as (
    select * from {{ ref('int_training_courses_deduplicated') }}
),

enrollment_activity_years as (
    select
        ward_code,
        {{ fiscal_year_of('applied_on') }} as fiscal_year
    from int_training_enrollments_deduplicated
    where applied_on is not null
    union
    select
        ward_code,
        {{ fiscal_year_of('completed_on') }} as fiscal_year
    from int_training_enrollments_deduplicated
    where completed_on is not null
),

graduate_counts as (
    select
        int_training_enrollments_deduplicated.ward_code,
        {{ fiscal_year_of('int_training_enrollments_deduplicated.completed_on') }} as fiscal_year,
        count(distinct int_training_enrollments_deduplicated.staff_id) as graduate_count
    from int_training_enrollments_deduplicated
    inner join int_training_courses_deduplicated
        on
            int_training_enrollments_deduplicated.ward_code
            = int_training_courses_deduplicated.ward_code
            and int_training_enrollments_deduplicated.course_code
            = int_training_courses_deduplicated.course_code
    where
        int_training_enrollments_deduplicated.enrollment_status = '修了'
        and int_training_enrollments_deduplicated.completed_on is not null
        and int_training_courses_deduplicated.category = 'DX推進リーダー育成'
    group by
        int_training_enrollments_deduplicated.ward_code,
        {{ fiscal_year_of('int_training_enrollments_deduplicated.completed_on') }}
),

graduates_where_measured as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        case
            when enrollment_activity_years.fiscal_year is not null
                then coalesce(graduate_counts.graduate_count, 0)
        end as graduate_count
    from int_fiscal_year_spine
    left join enrollment_activity_years
        on
            int_fiscal_year_spine.ward_code = enrollment_activity_years.ward_code
            and int_fiscal_year_spine.fiscal_year = enrollment_activity_years.fiscal_year
    left join graduate_counts
        on
            int_fiscal_year_spine.ward_code = graduate_counts.ward_code
            and int_fiscal_year_spine.fiscal_year = graduate_counts.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        graduate_count as numerator,
        cast(null as bigint) as denominator,
        cast(graduate_count as double) as value
    from graduates_where_measured
)

select * from final
