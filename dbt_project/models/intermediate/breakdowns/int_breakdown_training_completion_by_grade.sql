-- Interior cells of the completion table by 職層 (grade): population(FY) members per grade who
-- completed every mandatory デジタル基礎 course of FY, and who did not. Every grade with a
-- member has both cells, zeros included: the disclosure control must see the zeros. A grade
-- is 係長級 or higher (is_kakaricho_plus) for all its members or for none (grade_levels).
with

int_breakdown_training_completion_by_member as (
    select * from {{ ref('int_breakdown_training_completion_by_member') }}
),

completion_statuses as (
    select unnest(['completed', 'not_completed']) as completion_status
),

grades_with_members as (
    select distinct
        ward_code,
        fiscal_year,
        grade,
        grade_rank,
        is_kakaricho_plus
    from int_breakdown_training_completion_by_member
),

member_counts as (
    select
        ward_code,
        fiscal_year,
        grade,
        case when has_completed then 'completed' else 'not_completed' end as completion_status,
        count(*) as people
    from int_breakdown_training_completion_by_member
    group by all
),

cells as (
    select
        grades_with_members.ward_code,
        grades_with_members.fiscal_year,
        grades_with_members.grade,
        grades_with_members.grade_rank,
        grades_with_members.is_kakaricho_plus,
        completion_statuses.completion_status,
        coalesce(member_counts.people, 0) as people
    from grades_with_members
    cross join completion_statuses
    left join member_counts
        on
            grades_with_members.ward_code = member_counts.ward_code
            and grades_with_members.fiscal_year = member_counts.fiscal_year
            and grades_with_members.grade = member_counts.grade
            and completion_statuses.completion_status = member_counts.completion_status
),

final as (
    select * from cells
)

select * from final
