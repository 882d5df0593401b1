with

source_training_enrollment as (
    select * from {{ source('raw', 'training_enrollment') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(enrollment_id as varchar) as enrollment_id,
        cast(staff_id as varchar) as staff_id,
        cast(course_code as varchar) as course_code,
        cast(session_id as varchar) as session_id,
        cast(applied_on as date) as applied_on,
        cast(status as varchar) as enrollment_status,
        cast(completed_on as date) as completed_on,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_training_enrollment
)

select * from final
