-- Cross-file rule (README.md, "Rules across files"): a 受講状況 (enrolment status) that a
-- ward's enrolments had in the fiscal year before its latest complete one, and that none of
-- them has in it. The status list is fixed (the raw suite refuses others), so a status that
-- vanishes means the export now leaves those enrolments out (only completions, say) or the
-- ward changed how it records them. An enrolment belongs to the fiscal year of its 申込日
-- (application date). A fiscal year is complete for a ward once its training system exported
-- enrolments dated after the year ended (the year-end export). A status seen fewer than
-- vanished_status_min_previous_rows times the year before may vanish by chance.
{{ config(
    severity='warn',
    meta={
        'description': 'An enrolment status a ward had in the previous fiscal year is missing'
            ' from its latest complete fiscal year. Failing rows name the files of both'
            ' years.',
    },
) }}

{%- set accepted = var('accepted_vanished_values') | map('string') | list %}

with

int_training_enrollments_deduplicated as (
    select * from {{ ref('int_training_enrollments_deduplicated') }}
),

enrollments as (
    select
        ward_code,
        reference_date,
        source_file,
        enrollment_status,
        {{ fiscal_year_of('applied_on') }} as fiscal_year
    from int_training_enrollments_deduplicated
),

latest_complete_fiscal_years as (
    select
        ward_code,
        {{ fiscal_year_of('max(reference_date)') }} - 1 as fiscal_year
    from enrollments
    group by ward_code
),

enrollments_by_status as (
    select
        ward_code,
        fiscal_year,
        enrollment_status,
        count(*) as enrollments,
        string_agg(distinct source_file, ', ' order by source_file) as source_files
    from enrollments
    where enrollment_status is not null and fiscal_year is not null
    group by ward_code, fiscal_year, enrollment_status
),

source_files_by_fiscal_year as (
    select
        ward_code,
        fiscal_year,
        string_agg(distinct source_file, ', ' order by source_file) as source_files
    from enrollments
    where fiscal_year is not null
    group by ward_code, fiscal_year
),

previous_year_statuses as (
    select
        latest_complete_fiscal_years.ward_code,
        latest_complete_fiscal_years.fiscal_year,
        enrollments_by_status.enrollment_status,
        enrollments_by_status.enrollments as previous_year_enrollments,
        enrollments_by_status.source_files as previous_year_source_files
    from latest_complete_fiscal_years
    inner join enrollments_by_status
        on
            latest_complete_fiscal_years.ward_code = enrollments_by_status.ward_code
            and latest_complete_fiscal_years.fiscal_year - 1 = enrollments_by_status.fiscal_year
    where enrollments_by_status.enrollments >= {{ var('vanished_status_min_previous_rows') }}
),

vanished_statuses as (
    select
        previous_year_statuses.ward_code,
        previous_year_statuses.fiscal_year,
        previous_year_statuses.enrollment_status,
        previous_year_statuses.previous_year_enrollments,
        previous_year_statuses.previous_year_source_files,
        source_files_by_fiscal_year.source_files as fiscal_year_source_files
    from previous_year_statuses
    left join enrollments_by_status
        on
            previous_year_statuses.ward_code = enrollments_by_status.ward_code
            and previous_year_statuses.fiscal_year = enrollments_by_status.fiscal_year
            and previous_year_statuses.enrollment_status = enrollments_by_status.enrollment_status
    left join source_files_by_fiscal_year
        on
            previous_year_statuses.ward_code = source_files_by_fiscal_year.ward_code
            and previous_year_statuses.fiscal_year = source_files_by_fiscal_year.fiscal_year
    where
        enrollments_by_status.enrollment_status is null
        and not list_contains(
            cast({{ accepted }} as varchar[]),
            previous_year_statuses.ward_code || ':' || previous_year_statuses.enrollment_status
        )
),

final as (
    select * from vanished_statuses
)

select * from final
