-- taken_at stays naive UTC as CKAN reports it; reference_date is the snapshot's JST date
-- and decides the fiscal year.
with

source_opendata_package as (
    select * from {{ source('raw', 'opendata_package') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(snapshot_id as varchar) as snapshot_id,
        cast(taken_at as timestamp) as taken_at,
        cast(organization as varchar) as organization,
        cast(package_id as varchar) as package_id,
        cast(package_name as varchar) as package_name,
        cast(state as varchar) as package_state,
        cast(is_private as boolean) as is_private,
        cast(metadata_created as timestamp) as metadata_created,
        cast(metadata_modified as timestamp) as metadata_modified,
        cast(num_resources as integer) as num_resources,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_opendata_package
)

select * from final
