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

    changes_beyond_margin as (
        {{ latest_exports_beyond_volume_margin('rosters', 'roster_rows', margin) }}
    )

    select * from changes_beyond_margin

{% endtest %}
