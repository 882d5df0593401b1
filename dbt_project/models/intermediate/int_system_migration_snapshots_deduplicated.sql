-- dx_office/system_migration is a full snapshot, per 基準日 (reference date), of the migration
-- status of the 20 standardised core business systems (like hr/staff). A corrected re-export
-- of the same date replaces the whole snapshot, not row by row: a system missing from the
-- correction must not survive from the older file. Grain: the snapshot row.
with

stg_dx_office__system_migrations as (
    select * from {{ ref('stg_dx_office__system_migrations') }}
),

snapshot_exports as (
    select
        ward_code,
        reference_date,
        source_file,
        file_sha256,
        max(loaded_at) as last_loaded_at
    from stg_dx_office__system_migrations
    group by ward_code, reference_date, source_file, file_sha256
),

latest_export_of_each_snapshot as (
    select *
    from snapshot_exports
    qualify row_number() over (
        partition by ward_code, reference_date
        order by last_loaded_at desc, source_file desc, file_sha256 desc
    ) = 1
),

rows_of_latest_exports as (
    select stg_dx_office__system_migrations.*
    from stg_dx_office__system_migrations
    inner join latest_export_of_each_snapshot
        on
            stg_dx_office__system_migrations.ward_code
            = latest_export_of_each_snapshot.ward_code
            and stg_dx_office__system_migrations.reference_date
            = latest_export_of_each_snapshot.reference_date
            and stg_dx_office__system_migrations.source_file
            = latest_export_of_each_snapshot.source_file
            and stg_dx_office__system_migrations.file_sha256
            = latest_export_of_each_snapshot.file_sha256
),

rows_loaded_once as (
    -- The same file loaded twice must not double its rows.
    select *
    from rows_of_latest_exports
    qualify row_number() over (
        partition by ward_code, reference_date, source_row
        order by loaded_at desc
    ) = 1
),

final as (
    select * from rows_loaded_once
)

select * from final
