{#- The same bytes loaded as the export of two wards: staff numbers, course plans and
    proposals belong to one ward, so one of the two files carries another ward's data under
    its name (a file copied or renamed by hand, a system exporting the wrong tenant). Never
    legitimate, even for a quiet dataset: an export without rows is refused before loading.
    The loader keeps one file per ward x dataset x reference date (ops.file_loads), and every
    raw row carries its file's name and SHA-256, so the files loaded are read from the rows.
    Fails with one row per file of a content found under more than one ward. -#}
{% test export_not_loaded_under_two_wards(model) %}

    with

    loaded_rows as (
        select
            ward_code,
            reference_date,
            source_file,
            file_sha256
        from {{ model }}
    ),

    loaded_files as (
        select
            ward_code,
            reference_date,
            source_file,
            file_sha256,
            count(*) as rows_loaded
        from loaded_rows
        group by ward_code, reference_date, source_file, file_sha256
    ),

    files_with_their_copies as (
        select
            ward_code,
            reference_date,
            source_file,
            file_sha256,
            rows_loaded,
            count(distinct ward_code) over same_content as wards_with_this_content,
            string_agg(source_file, ', ' order by source_file) over same_content
                as files_with_this_content
        from loaded_files
        window same_content as (partition by file_sha256)
    ),

    copied_files as (
        select *
        from files_with_their_copies
        where wards_with_this_content > 1
    )

    select * from copied_files

{% endtest %}
