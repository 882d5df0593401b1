-- Staff snapshot rows as exported; 職層 (grade) stays as the ward writes it and is mapped
-- through the grade_levels seed downstream.
with

source_hr_staff as (
    select * from {{ source('raw', 'hr_staff') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(staff_id as varchar) as staff_id,
        cast(org_code as varchar) as org_code,
        cast(org_name as varchar) as org_name,
        cast(grade as varchar) as grade,
        cast(job_title as varchar) as job_title,
        cast(employment_type as varchar) as employment_type,
        cast(hire_date as date) as hire_date,
        cast(retirement_date as date) as retirement_date,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_hr_staff
)

select * from final
