{#- For full snapshots only (hr/staff): a ward's export whose bytes are those of one of its
    exports of an earlier reference date. A roster of a thousand staff or more does not stay
    byte for byte the same from one month to the next: the export was not refreshed, and the
    later snapshot shows staff who retired since. Not for delta or plan exports (training,
    proposals), which may legitimately repeat when nothing changed.
    Fails with one row per later file, naming the earliest file with the same content. -#}
{% test export_not_repeated_under_a_later_date(model) %}

    with

    files_with_their_first_version as (
        select
            *,
            first_value(reference_date) over same_content as first_reference_date,
            first_value(source_file) over same_content as first_source_file
        from ({{ loaded_export_files(model) }}) as loaded_files
        window same_content as (
            partition by ward_code, file_sha256 order by reference_date, source_file
        )
    ),

    repeated_files as (
        select *
        from files_with_their_first_version
        where reference_date > first_reference_date
    )

    select * from repeated_files

{% endtest %}
