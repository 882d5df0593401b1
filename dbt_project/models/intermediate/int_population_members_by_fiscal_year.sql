-- population(FY): the staff of the ward's latest roster snapshot dated inside FY who are in
-- service on that snapshot date (no retirement date on or before it). All employment types
-- count. kakaricho_plus: grade 係長級 or higher, through the grade_levels mapping because
-- wards name their grades differently; an unmapped grade is not counted as kakaricho_plus.
with

int_staff_snapshots_deduplicated as (
    select * from {{ ref('int_staff_snapshots_deduplicated') }}
),

grade_levels as (
    select * from {{ ref('grade_levels') }}
),

snapshot_dates as (
    select distinct
        ward_code,
        reference_date,
        {{ fiscal_year_of('reference_date') }} as fiscal_year
    from int_staff_snapshots_deduplicated
),

latest_snapshot_of_each_fiscal_year as (
    select
        ward_code,
        fiscal_year,
        max(reference_date) as snapshot_date
    from snapshot_dates
    group by ward_code, fiscal_year
),

appointments_in_service as (
    select
        latest_snapshot_of_each_fiscal_year.ward_code,
        latest_snapshot_of_each_fiscal_year.fiscal_year,
        latest_snapshot_of_each_fiscal_year.snapshot_date,
        int_staff_snapshots_deduplicated.staff_id,
        coalesce(grade_levels.is_kakaricho_plus, false) as is_kakaricho_plus
    from latest_snapshot_of_each_fiscal_year
    inner join int_staff_snapshots_deduplicated
        on
            latest_snapshot_of_each_fiscal_year.ward_code
            = int_staff_snapshots_deduplicated.ward_code
            and latest_snapshot_of_each_fiscal_year.snapshot_date
            = int_staff_snapshots_deduplicated.reference_date
    left join grade_levels
        on int_staff_snapshots_deduplicated.grade = grade_levels.grade
    where
        int_staff_snapshots_deduplicated.staff_id is not null
        and (
            int_staff_snapshots_deduplicated.retirement_date is null
            or int_staff_snapshots_deduplicated.retirement_date
            > latest_snapshot_of_each_fiscal_year.snapshot_date
        )
),

distinct_staff as (
    -- A person with several appointments counts once, at the highest of their grades.
    select
        ward_code,
        fiscal_year,
        snapshot_date,
        staff_id,
        bool_or(is_kakaricho_plus) as is_kakaricho_plus
    from appointments_in_service
    group by ward_code, fiscal_year, snapshot_date, staff_id
),

final as (
    select * from distinct_staff
)

select * from final
