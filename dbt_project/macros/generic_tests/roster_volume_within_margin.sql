{#- Rosters (hr_staff) are full snapshots of the staff in service: month to month a ward's
    count moves by a few percent (retirements, April hiring and re-appointments). A latest
    roster far smaller or larger than the ward's previous one is a partial or duplicated
    export, and it would become the fiscal year's population.
    Compares each ward's latest roster with its previous one; fails with one row per ward
    whose row count moved by more than `margin` (a share: 0.2 = 20%), naming both files. -#}
{% test roster_volume_within_margin(model, margin) %}

    with

    roster_rows as (
        select
            ward_code,
            reference_date,
            source_file
        from {{ model }}
    ),

    rosters as (
        select
            ward_code,
            reference_date,
            source_file,
            count(*) as roster_rows
        from roster_rows
        group by ward_code, reference_date, source_file
    ),

    rosters_with_their_previous as (
        select
            ward_code,
            reference_date,
            source_file,
            roster_rows,
            lag(reference_date) over by_date as previous_reference_date,
            lag(source_file) over by_date as previous_source_file,
            lag(roster_rows) over by_date as previous_roster_rows,
            row_number() over (
                partition by ward_code order by reference_date desc
            ) as recency
        from rosters
        window by_date as (partition by ward_code order by reference_date)
    ),

    latest_rosters_compared as (
        select
            ward_code,
            reference_date as latest_reference_date,
            source_file as latest_source_file,
            roster_rows as latest_roster_rows,
            previous_reference_date,
            previous_source_file,
            previous_roster_rows,
            (roster_rows - previous_roster_rows) / previous_roster_rows as relative_change
        from rosters_with_their_previous
        where recency = 1 and previous_roster_rows is not null
    ),

    changes_beyond_margin as (
        select
            ward_code,
            latest_reference_date,
            latest_source_file,
            latest_roster_rows,
            previous_reference_date,
            previous_source_file,
            previous_roster_rows,
            round(relative_change, 3) as relative_change,
            cast({{ margin }} as double) as margin
        from latest_rosters_compared
        where abs(relative_change) > cast({{ margin }} as double)
    )

    select * from changes_beyond_margin

{% endtest %}
