-- Every ward of the reference list x every fiscal year from the first to the last one seen
-- in any source, so that a ward without data for a year still shows up (as no_data) instead
-- of silently missing from the scorecard.
with

wards as (
    select * from {{ ref('wards') }}
),

int_staff_snapshots_deduplicated as (
    select * from {{ ref('int_staff_snapshots_deduplicated') }}
),

int_training_courses_deduplicated as (
    select * from {{ ref('int_training_courses_deduplicated') }}
),

int_training_sessions_deduplicated as (
    select * from {{ ref('int_training_sessions_deduplicated') }}
),

int_training_enrollments_deduplicated as (
    select * from {{ ref('int_training_enrollments_deduplicated') }}
),

int_proposals_deduplicated as (
    select * from {{ ref('int_proposals_deduplicated') }}
),

int_opendata_packages_deduplicated as (
    select * from {{ ref('int_opendata_packages_deduplicated') }}
),

fiscal_years_seen as (
    select {{ fiscal_year_of('reference_date') }} as fiscal_year
    from int_staff_snapshots_deduplicated
    union all
    select fiscal_year
    from int_training_courses_deduplicated
    union all
    select {{ fiscal_year_of('session_date') }} as fiscal_year
    from int_training_sessions_deduplicated
    union all
    select {{ fiscal_year_of('applied_on') }} as fiscal_year
    from int_training_enrollments_deduplicated
    union all
    select {{ fiscal_year_of('completed_on') }} as fiscal_year
    from int_training_enrollments_deduplicated
    union all
    select {{ fiscal_year_of('submitted_on') }} as fiscal_year
    from int_proposals_deduplicated
    union all
    select {{ fiscal_year_of('reference_date') }} as fiscal_year
    from int_opendata_packages_deduplicated
),

fiscal_year_range as (
    select
        min(fiscal_year) as first_fiscal_year,
        max(fiscal_year) as last_fiscal_year
    from fiscal_years_seen
),

fiscal_years as (
    select
        cast(
            unnest(generate_series(first_fiscal_year, last_fiscal_year)) as integer
        ) as fiscal_year
    from fiscal_year_range
    where first_fiscal_year is not null
),

wards_by_fiscal_year as (
    select
        wards.ward_code,
        fiscal_years.fiscal_year,
        {{ fiscal_year_start_date('fiscal_years.fiscal_year') }} as fiscal_year_start_date,
        {{ fiscal_year_end_date('fiscal_years.fiscal_year') }} as fiscal_year_end_date
    from wards
    cross join fiscal_years
),

final as (
    select * from wards_by_fiscal_year
)

select * from final
