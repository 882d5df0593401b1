-- Cross-file rule (README.md, "Rules across files"): proposers (提案者, every member of a
-- group proposal) whose staff pseudonym is on none of the ward's rosters (hr_staff, any
-- date). Many of them in a ward: the proposal system exports 職員番号 in another form, so
-- pseudonyms stop joining, or the ward's rosters are missing. A few are legitimate (a
-- proposal filed before the first roster loaded, a proposer who came and left between two
-- monthly rosters): a ward is reported only above unknown_staff_max_share of its proposers
-- and from unknown_staff_min_rows of them.
-- Reads the rosters too: attached in Dagster to the proposals (meta.dagster.ref).
{{ config(
    severity='warn',
    meta={
        'dagster': {'ref': {'name': 'int_proposals_deduplicated'}},
        'description': 'A ward\'s proposers who are on none of its rosters, above'
            ' unknown_staff_max_share and unknown_staff_min_rows. Failing rows give the'
            ' counts and the files carrying them.',
    },
) }}

with

int_proposals_deduplicated as (
    select * from {{ ref('int_proposals_deduplicated') }}
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

proposers as (
    -- proposer_ids holds the pseudonyms of a group proposal joined by ';'.
    select
        ward_code,
        reference_date,
        source_file,
        unnest(string_split(proposer_ids, ';')) as staff_id
    from int_proposals_deduplicated
    where proposer_ids is not null
),

proposers_matched_to_rosters as (
    select
        proposers.ward_code,
        proposers.reference_date,
        proposers.source_file,
        proposers.staff_id,
        rostered_staff.staff_id is null as is_unknown
    from proposers
    left join rostered_staff
        on
            proposers.ward_code = rostered_staff.ward_code
            and proposers.staff_id = rostered_staff.staff_id
    where proposers.staff_id != ''
),

unknown_proposers_by_file as (
    select
        ward_code,
        reference_date,
        source_file,
        count(*) as unknown_proposers
    from proposers_matched_to_rosters
    where is_unknown
    group by ward_code, reference_date, source_file
),

proposers_by_ward as (
    select
        ward_code,
        count(*) as proposers,
        count(*) filter (where is_unknown) as unknown_proposers,
        count(distinct staff_id) filter (where is_unknown) as unknown_staff
    from proposers_matched_to_rosters
    group by ward_code
),

files_by_ward as (
    select
        ward_code,
        min(reference_date) as first_reference_date,
        max(reference_date) as last_reference_date,
        string_agg(
            source_file || ' (' || unknown_proposers || ')', ', '
            order by reference_date
        ) as files_with_unknown_staff
    from unknown_proposers_by_file
    group by ward_code
),

wards_above_tolerance as (
    select
        proposers_by_ward.ward_code,
        proposers_by_ward.proposers,
        proposers_by_ward.unknown_proposers,
        proposers_by_ward.unknown_staff,
        files_by_ward.first_reference_date,
        files_by_ward.last_reference_date,
        files_by_ward.files_with_unknown_staff,
        round(proposers_by_ward.unknown_proposers / proposers_by_ward.proposers, 4)
            as unknown_share
    from proposers_by_ward
    inner join files_by_ward
        on proposers_by_ward.ward_code = files_by_ward.ward_code
    where
        proposers_by_ward.unknown_proposers >= {{ var('unknown_staff_min_rows') }}
        and proposers_by_ward.unknown_proposers
        > {{ var('unknown_staff_max_share') }} * proposers_by_ward.proposers
),

final as (
    select * from wards_above_tolerance
)

select * from final
