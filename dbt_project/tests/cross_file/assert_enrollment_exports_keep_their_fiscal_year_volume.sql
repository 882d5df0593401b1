-- Cross-file rule (README.md, "Rules across files"): a ward's training system exports every
-- enrolment of the fiscal year each time (the year-end export supersedes the mid-year one),
-- so its latest export of a year carries at least about as many enrolments of that year as
-- its previous export of the same year. Far fewer: a truncated or filtered export. WARN, not
-- ERROR: an enrolment absent from a later export is kept with its earlier version (exports
-- never delete), so the KPIs are not wrong, only not updated. The wards whose system sends
-- deltas are listed in the var enrollment_delta_export_wards and not compared.
{{ config(
    severity='warn',
    meta={
        'description': 'A ward\'s latest enrolment export carries more than'
            ' enrollment_volume_warn_margin fewer rows of its fiscal year than its previous'
            ' export of that year. Failing rows name both files.',
    },
) }}

{%- set delta_export_wards = var('enrollment_delta_export_wards') | map('string') | list %}

with

stg_training__enrollments as (
    select * from {{ ref('stg_training__enrollments') }}
),

rows_by_export_and_fiscal_year as (
    select
        ward_code,
        reference_date,
        source_file,
        {{ fiscal_year_of('applied_on') }} as fiscal_year,
        count(*) as enrollment_rows
    from stg_training__enrollments
    group by ward_code, reference_date, source_file, fiscal_year
),

exports as (
    -- The fiscal year an export is about: the one most of its enrolments were applied in
    -- (a few completed late may belong to the next one). The wards sending deltas are left
    -- out here: every comparison is within one ward.
    select
        ward_code,
        reference_date,
        source_file,
        arg_max(fiscal_year, enrollment_rows) as fiscal_year,
        max(enrollment_rows) as enrollment_rows
    from rows_by_export_and_fiscal_year
    where not list_contains(cast({{ delta_export_wards }} as varchar[]), ward_code)
    group by ward_code, reference_date, source_file
),

exports_shrunk_beyond_margin as (
    {{ latest_exports_beyond_volume_margin(
        'exports',
        'enrollment_rows',
        var('enrollment_volume_warn_margin'),
        compared_within=['ward_code', 'fiscal_year'],
        falls_only=true
    ) }}
),

final as (
    select * from exports_shrunk_beyond_margin
)

select * from final
