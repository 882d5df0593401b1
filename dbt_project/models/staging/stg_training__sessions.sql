with

source_training_session as (
    select * from {{ source('raw', 'training_session') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(session_id as varchar) as session_id,
        cast(course_code as varchar) as course_code,
        cast(session_date as date) as session_date,
        cast(capacity as integer) as capacity,
        cast(venue as varchar) as venue,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_training_session
)

select * from final
