with

source_training_course as (
    select * from {{ source('raw', 'training_course') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(course_code as varchar) as course_code,
        cast(fiscal_year as integer) as fiscal_year,
        cast(course_name as varchar) as course_name,
        cast(category as varchar) as category,
        cast(requirement as varchar) as requirement,
        cast(delivery_format as varchar) as delivery_format,
        cast(hours as double) as course_hours,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_training_course
)

select * from final
