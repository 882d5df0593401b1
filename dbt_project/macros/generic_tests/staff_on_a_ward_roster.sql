{#- Rows naming a staff pseudonym (enrolments, proposers) that is on none of the ward's
    rosters (hr_staff, any date). Those people drop out of the completion rate and the
    staff-based indicators, which count rostered staff only. Many of them in a ward: the other
    system exports 職員番号 in another form (zero-padding, a prefix, a new numbering), so
    pseudonyms stop joining, or the ward's rosters are missing. A few are legitimate (staff
    hired after the newest roster, people who came and left between two monthly rosters,
    trainees seconded from elsewhere): a ward is reported only above unknown_staff_max_share
    of its rows and from unknown_staff_min_rows of them.
    `column_name` holds one pseudonym, or with `separator` several (every member of a group
    proposal, each counted). `rows_name` and `unknown_rows_name` name the two counts in the
    failing rows after what the rows are (enrollments and unknown_staff_enrollments).
    Reads the rosters too; declared on the model it checks, it is attached there in Dagster
    (a generic test's attached node), without meta.dagster.ref.
    Fails with one row per ward above the tolerance, naming the files that carry them. -#}
{% test staff_on_a_ward_roster(model, column_name, rows_name, unknown_rows_name, separator=none) %}

    with

    rows_naming_staff as (
        select * from {{ model }}
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

    named_staff as (
        select
            ward_code,
            reference_date,
            source_file,
            {% if separator -%}
                unnest(string_split({{ column_name }}, '{{ separator }}')) as staff_id
            {%- else -%}
                {{ column_name }} as staff_id
            {%- endif %}
        from rows_naming_staff
        where {{ column_name }} is not null
    ),

    named_staff_matched_to_rosters as (
        select
            named_staff.ward_code,
            named_staff.reference_date,
            named_staff.source_file,
            named_staff.staff_id,
            rostered_staff.staff_id is null as is_unknown
        from named_staff
        left join rostered_staff
            on
                named_staff.ward_code = rostered_staff.ward_code
                and named_staff.staff_id = rostered_staff.staff_id
        where named_staff.staff_id != ''
    ),

    unknown_staff_by_file as (
        select
            ward_code,
            reference_date,
            source_file,
            count(*) as unknown_rows
        from named_staff_matched_to_rosters
        where is_unknown
        group by ward_code, reference_date, source_file
    ),

    named_staff_by_ward as (
        select
            ward_code,
            count(*) as {{ rows_name }},
            count(*) filter (where is_unknown) as {{ unknown_rows_name }},
            count(distinct staff_id) filter (where is_unknown) as unknown_staff
        from named_staff_matched_to_rosters
        group by ward_code
    ),

    files_by_ward as (
        select
            ward_code,
            min(reference_date) as first_reference_date,
            max(reference_date) as last_reference_date,
            string_agg(
                source_file || ' (' || unknown_rows || ')', ', '
                order by reference_date
            ) as files_with_unknown_staff
        from unknown_staff_by_file
        group by ward_code
    ),

    wards_above_tolerance as (
        select
            named_staff_by_ward.ward_code,
            named_staff_by_ward.{{ rows_name }},
            named_staff_by_ward.{{ unknown_rows_name }},
            named_staff_by_ward.unknown_staff,
            files_by_ward.first_reference_date,
            files_by_ward.last_reference_date,
            files_by_ward.files_with_unknown_staff,
            round(
                named_staff_by_ward.{{ unknown_rows_name }} / named_staff_by_ward.{{ rows_name }}, 4
            ) as unknown_share
        from named_staff_by_ward
        inner join files_by_ward
            on named_staff_by_ward.ward_code = files_by_ward.ward_code
        where
            named_staff_by_ward.{{ unknown_rows_name }} >= {{ var('unknown_staff_min_rows') }}
            and named_staff_by_ward.{{ unknown_rows_name }}
            > {{ var('unknown_staff_max_share') }} * named_staff_by_ward.{{ rows_name }}
    )

    select * from wards_above_tolerance

{% endtest %}
