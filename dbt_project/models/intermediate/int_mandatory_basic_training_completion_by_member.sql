-- Whether each member of population(FY) completed (修了, completion date in FY) every mandatory
-- (必修) デジタル基礎 course of FY: the rule of 全職員のデジタル基礎研修受講率, in one place for the
-- indicator (int_kpi_m1_ksi_basic_training_completion) and its breakdowns by grade and by
-- department. Only the fiscal years with such a course (without one there is nothing to
-- complete); one row per ward x fiscal year x member.
with

int_population_members_by_fiscal_year as (
    select * from {{ ref('int_population_members_by_fiscal_year') }}
),

int_training_courses_deduplicated as (
    select * from {{ ref('int_training_courses_deduplicated') }}
),

int_training_enrollments_deduplicated as (
    select * from {{ ref('int_training_enrollments_deduplicated') }}
),

mandatory_basic_courses as (
    select
        ward_code,
        fiscal_year,
        course_code
    from int_training_courses_deduplicated
    where category = 'デジタル基礎' and requirement = '必修'
),

mandatory_course_counts as (
    select
        ward_code,
        fiscal_year,
        count(*) as mandatory_course_count
    from mandatory_basic_courses
    group by ward_code, fiscal_year
),

mandatory_courses_completed as (
    -- Only a completion dated inside the course's own fiscal year counts for that year.
    select distinct
        int_training_enrollments_deduplicated.ward_code,
        mandatory_basic_courses.fiscal_year,
        int_training_enrollments_deduplicated.staff_id,
        int_training_enrollments_deduplicated.course_code
    from int_training_enrollments_deduplicated
    inner join mandatory_basic_courses
        on
            int_training_enrollments_deduplicated.ward_code = mandatory_basic_courses.ward_code
            and int_training_enrollments_deduplicated.course_code
            = mandatory_basic_courses.course_code
    where
        int_training_enrollments_deduplicated.enrollment_status = '修了'
        and {{ fiscal_year_of('int_training_enrollments_deduplicated.completed_on') }}
        = mandatory_basic_courses.fiscal_year
),

completed_course_counts_per_staff as (
    select
        ward_code,
        fiscal_year,
        staff_id,
        count(*) as completed_course_count
    from mandatory_courses_completed
    group by ward_code, fiscal_year, staff_id
),

final as (
    select
        int_population_members_by_fiscal_year.ward_code,
        int_population_members_by_fiscal_year.fiscal_year,
        int_population_members_by_fiscal_year.staff_id,
        coalesce(completed_course_counts_per_staff.completed_course_count, 0)
        = mandatory_course_counts.mandatory_course_count as has_completed
    from int_population_members_by_fiscal_year
    inner join mandatory_course_counts
        on
            int_population_members_by_fiscal_year.ward_code = mandatory_course_counts.ward_code
            and int_population_members_by_fiscal_year.fiscal_year
            = mandatory_course_counts.fiscal_year
    left join completed_course_counts_per_staff
        on
            int_population_members_by_fiscal_year.ward_code
            = completed_course_counts_per_staff.ward_code
            and int_population_members_by_fiscal_year.fiscal_year
            = completed_course_counts_per_staff.fiscal_year
            and int_population_members_by_fiscal_year.staff_id
            = completed_course_counts_per_staff.staff_id
)

select * from final
