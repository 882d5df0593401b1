{#- The export files loaded into `model`, read from its rows: every raw row carries its
    file's name and SHA-256, and the loader keeps one file per ward x dataset x reference
    date (ops.file_loads). One row per file: ward_code, reference_date, source_file,
    file_sha256, rows_loaded. Shared by the generic tests on file contents
    (export_not_loaded_under_two_wards, export_not_repeated_under_a_later_date). -#}
{% macro loaded_export_files(model) %}
    select
        ward_code,
        reference_date,
        source_file,
        file_sha256,
        count(*) as rows_loaded
    from {{ model }}
    group by ward_code, reference_date, source_file, file_sha256
{% endmacro %}
