-- Interior cells of the completion table by 所属コード (department code, of the roster
-- snapshot that defines the population): members per department who completed every
-- mandatory デジタル基礎 course of FY, and who did not. Every department with a member has both
-- cells, zeros included: the disclosure control must see the zeros.
with

int_breakdown_training_completion_by_member as (
    select * from {{ ref('int_breakdown_training_completion_by_member') }}
),

completion_statuses as (
    select unnest(['completed', 'not_completed']) as completion_status
),

departments_with_members as (
    select distinct
        ward_code,
        fiscal_year,
        department_code
    from int_breakdown_training_completion_by_member
),

member_counts as (
    select
        ward_code,
        fiscal_year,
        department_code,
        case when has_completed then 'completed' else 'not_completed' end as completion_status,
        count(*) as people
    from int_breakdown_training_completion_by_member
    group by all
),

cells as (
    select
        departments_with_members.ward_code,
        departments_with_members.fiscal_year,
        departments_with_members.department_code,
        completion_statuses.completion_status,
        coalesce(member_counts.people, 0) as people
    from departments_with_members
    cross join completion_statuses
    left join member_counts
        on
            departments_with_members.ward_code = member_counts.ward_code
            and departments_with_members.fiscal_year = member_counts.fiscal_year
            and departments_with_members.department_code = member_counts.department_code
            and completion_statuses.completion_status = member_counts.completion_status
),

final as (
    select * from cells
)

select * from final
