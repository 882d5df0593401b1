-- A full snapshot per reference date of the 20 standardised core business systems:
-- migration_status 未着手 | 移行中 | 移行完了.
with

source_dx_office_system_migration as (
    select * from {{ source('raw', 'dx_office_system_migration') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(system_code as varchar) as system_code,
        cast(system_name as varchar) as system_name,
        cast(migration_status as varchar) as migration_status,
        cast(migrated_on as date) as migrated_on,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_dx_office_system_migration
)

select * from final
