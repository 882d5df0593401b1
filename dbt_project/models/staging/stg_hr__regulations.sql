-- 施行日 (effective_on) and 廃止日 (repealed_on, blank while in force).
with

source_hr_hr_regulation as (
    select * from {{ source('raw', 'hr_hr_regulation') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(regulation_id as varchar) as regulation_id,
        cast(regulation_name as varchar) as regulation_name,
        cast(regulation_type as varchar) as regulation_type,
        cast(effective_on as date) as effective_on,
        cast(repealed_on as date) as repealed_on,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_hr_hr_regulation
)

select * from final
