{#- The same bytes loaded as the export of two wards: staff numbers, course plans and
    proposals belong to one ward, so one of the two files carries another ward's data under
    its name (a file copied or renamed by hand, a system exporting the wrong tenant). Never
    legitimate, even for a quiet dataset: an export without rows is refused before loading.
    The files loaded are read from the rows (macro loaded_export_files).
    Fails with one row per file of a content found under more than one ward. -#}
{% test export_not_loaded_under_two_wards(model) %}

    with

    files_with_their_copies as (
        select
            *,
            count(distinct ward_code) over same_content as wards_with_this_content,
            string_agg(source_file, ', ' order by source_file) over same_content
                as files_with_this_content
        from ({{ loaded_export_files(model) }}) as loaded_files
        window same_content as (partition by file_sha256)
    ),

    copied_files as (
        select *
        from files_with_their_copies
        where wards_with_this_content > 1
    )

    select * from copied_files

{% endtest %}
