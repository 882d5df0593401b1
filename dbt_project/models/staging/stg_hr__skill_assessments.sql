with

source_hr_skill_assessment as (
    select * from {{ source('raw', 'hr_skill_assessment') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(staff_id as varchar) as staff_id,
        cast(assessed_on as date) as assessed_on,
        cast(skill_item_code as varchar) as skill_item_code,
        cast(skill_level as integer) as skill_level,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_hr_skill_assessment
)

select * from final
