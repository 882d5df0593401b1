-- Cross-file rule (README.md, "Rules across files"): enrolments whose staff pseudonym is on
-- none of the ward's rosters (hr_staff, any date). They drop out of the completion rate,
-- which only counts rostered staff. Many of them in a ward: the training system exports
-- 職員番号 in another form (zero-padding, a prefix), so pseudonyms stop joining, or the
-- ward's rosters are missing. A few are legitimate (staff hired after the newest roster, or
-- who came and left between two monthly rosters, trainees from another body): a ward is
-- reported only above unknown_staff_max_share of its enrolments and from
-- unknown_staff_min_rows of them.
-- Reads the rosters too: attached in Dagster to the enrolments (meta.dagster.ref).
{{ config(
    severity='warn',
    meta={
        'dagster': {'ref': {'name': 'int_training_enrollments_deduplicated'}},
        'description': 'A ward\'s enrolments whose staff is on none of its rosters, above'
            ' unknown_staff_max_share and unknown_staff_min_rows. Failing rows give the'
            ' counts and the files carrying them.',
    },
) }}

with

int_training_enrollments_deduplicated as (
    select * from {{ ref('int_training_enrollments_deduplicated') }}
),

int_staff_snapshots_deduplicated as (
    select * from {{ ref('int_staff_snapshots_deduplicated') }}
),

rostered_staff as (
    select distinct
        ward_code,
        staff_id
    from int_staff_snapshots_deduplicated
    where staff_id is not null
),

enrollments_matched_to_rosters as (
    select
        int_training_enrollments_deduplicated.ward_code,
        int_training_enrollments_deduplicated.reference_date,
        int_training_enrollments_deduplicated.source_file,
        int_training_enrollments_deduplicated.staff_id,
        rostered_staff.staff_id is null as is_unknown
    from int_training_enrollments_deduplicated
    left join rostered_staff
        on
            int_training_enrollments_deduplicated.ward_code = rostered_staff.ward_code
            and int_training_enrollments_deduplicated.staff_id = rostered_staff.staff_id
    where int_training_enrollments_deduplicated.staff_id is not null
),

unknown_staff_by_file as (
    select
        ward_code,
        reference_date,
        source_file,
        count(*) as unknown_staff_enrollments
    from enrollments_matched_to_rosters
    where is_unknown
    group by ward_code, reference_date, source_file
),

enrollments_by_ward as (
    select
        ward_code,
        count(*) as enrollments,
        count(*) filter (where is_unknown) as unknown_staff_enrollments,
        count(distinct staff_id) filter (where is_unknown) as unknown_staff
    from enrollments_matched_to_rosters
    group by ward_code
),

files_by_ward as (
    select
        ward_code,
        min(reference_date) as first_reference_date,
        max(reference_date) as last_reference_date,
        string_agg(
            source_file || ' (' || unknown_staff_enrollments || ')', ', '
            order by reference_date
        ) as files_with_unknown_staff
    from unknown_staff_by_file
    group by ward_code
),

wards_above_tolerance as (
    select
        enrollments_by_ward.ward_code,
        enrollments_by_ward.enrollments,
        enrollments_by_ward.unknown_staff_enrollments,
        enrollments_by_ward.unknown_staff,
        files_by_ward.first_reference_date,
        files_by_ward.last_reference_date,
        files_by_ward.files_with_unknown_staff,
        round(
            enrollments_by_ward.unknown_staff_enrollments / enrollments_by_ward.enrollments, 4
        ) as unknown_share
    from enrollments_by_ward
    inner join files_by_ward
        on enrollments_by_ward.ward_code = files_by_ward.ward_code
    where
        enrollments_by_ward.unknown_staff_enrollments >= {{ var('unknown_staff_min_rows') }}
        and enrollments_by_ward.unknown_staff_enrollments
        > {{ var('unknown_staff_max_share') }} * enrollments_by_ward.enrollments
),

final as (
    select * from wards_above_tolerance
)

select * from final
