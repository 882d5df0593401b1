-- The members of population(FY) behind 全職員のデジタル基礎研修受講率
-- (int_kpi_m1_ksi_basic_training_completion), each with the 職層 (grade) and 所属コード
-- (department) the breakdowns count them under, and whether they completed every mandatory
-- デジタル基礎 course of FY (int_mandatory_basic_training_completion_by_member, the indicator's
-- own rule), so the breakdowns add up to its numerator and denominator. Only the fiscal years
-- for which the indicator has a value. is_kakaricho_plus is the population's own flag: the
-- number of such members is published too (m2_ksi_certified_dx_leader_ratio's denominator),
-- and the disclosure control of the grade breakdown must know which rows add up to it.
with

int_kpi_m1_ksi_basic_training_completion as (
    select * from {{ ref('int_kpi_m1_ksi_basic_training_completion') }}
),

int_population_members_by_fiscal_year as (
    select * from {{ ref('int_population_members_by_fiscal_year') }}
),

int_staff_snapshots_deduplicated as (
    select * from {{ ref('int_staff_snapshots_deduplicated') }}
),

int_mandatory_basic_training_completion_by_member as (
    select * from {{ ref('int_mandatory_basic_training_completion_by_member') }}
),

grade_levels as (
    select * from {{ ref('grade_levels') }}
),

measured_fiscal_years as (
    select
        ward_code,
        fiscal_year
    from int_kpi_m1_ksi_basic_training_completion
    where value is not null
),

member_appointments as (
    -- The member's appointments in service on the snapshot that defines the population.
    select
        int_population_members_by_fiscal_year.ward_code,
        int_population_members_by_fiscal_year.fiscal_year,
        int_population_members_by_fiscal_year.staff_id,
        int_population_members_by_fiscal_year.is_kakaricho_plus,
        int_staff_snapshots_deduplicated.grade,
        grade_levels.grade_rank,
        int_staff_snapshots_deduplicated.org_code
    from int_population_members_by_fiscal_year
    inner join measured_fiscal_years
        on
            int_population_members_by_fiscal_year.ward_code = measured_fiscal_years.ward_code
            and int_population_members_by_fiscal_year.fiscal_year
            = measured_fiscal_years.fiscal_year
    inner join int_staff_snapshots_deduplicated
        on
            int_population_members_by_fiscal_year.ward_code
            = int_staff_snapshots_deduplicated.ward_code
            and int_population_members_by_fiscal_year.snapshot_date
            = int_staff_snapshots_deduplicated.reference_date
            and int_population_members_by_fiscal_year.staff_id
            = int_staff_snapshots_deduplicated.staff_id
    left join grade_levels
        on int_staff_snapshots_deduplicated.grade = grade_levels.grade
    where
        int_staff_snapshots_deduplicated.retirement_date is null
        or int_staff_snapshots_deduplicated.retirement_date
        > int_population_members_by_fiscal_year.snapshot_date
),

member_main_appointments as (
    -- A person with several appointments (会計年度任用職員, fiscal-year appointees) counts
    -- once, as in the population: under the highest of their grades (a grade missing from
    -- grade_levels ranks below every mapped one) and in that appointment's department.
    select *
    from member_appointments
    qualify row_number() over (
        partition by ward_code, fiscal_year, staff_id
        order by grade_rank desc nulls last, grade asc nulls last, org_code asc nulls last
    ) = 1
),

members_with_completion as (
    select
        member_main_appointments.ward_code,
        member_main_appointments.fiscal_year,
        member_main_appointments.staff_id,
        member_main_appointments.grade_rank,
        member_main_appointments.is_kakaricho_plus,
        int_mandatory_basic_training_completion_by_member.has_completed,
        -- A label is needed for every person: the totals must reach the indicator's counts.
        coalesce(member_main_appointments.grade, '不明') as grade,
        coalesce(member_main_appointments.org_code, '不明') as department_code
    from member_main_appointments
    inner join int_mandatory_basic_training_completion_by_member
        on
            member_main_appointments.ward_code
            = int_mandatory_basic_training_completion_by_member.ward_code
            and member_main_appointments.fiscal_year
            = int_mandatory_basic_training_completion_by_member.fiscal_year
            and member_main_appointments.staff_id
            = int_mandatory_basic_training_completion_by_member.staff_id
),

final as (
    select * from members_with_completion
)

select * from final
