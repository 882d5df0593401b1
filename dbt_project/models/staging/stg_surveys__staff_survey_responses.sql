-- Anonymous responses; a null satisfaction is the question left blank (the response was
-- still received). 自由記述 never reaches the raw layer.
with

source_surveys_staff_survey as (
    select * from {{ source('raw', 'surveys_staff_survey') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(response_id as varchar) as response_id,
        cast(answered_on as date) as answered_on,
        cast(department_code as varchar) as department_code,
        cast(grade_group as varchar) as grade_group,
        cast(satisfaction as integer) as satisfaction,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_surveys_staff_survey
)

select * from final
