-- 失効年月日 (lapsed_on) is blank while the certification is valid.
with

source_hr_dx_leader_certification as (
    select * from {{ source('raw', 'hr_dx_leader_certification') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(certification_id as varchar) as certification_id,
        cast(staff_id as varchar) as staff_id,
        cast(certified_on as date) as certified_on,
        cast(lapsed_on as date) as lapsed_on,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_hr_dx_leader_certification
)

select * from final
