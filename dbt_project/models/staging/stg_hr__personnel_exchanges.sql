-- 交流先名 (counterpart_name) names an organisation, never a person; staff_id may be blank.
with

source_hr_personnel_exchange as (
    select * from {{ source('raw', 'hr_personnel_exchange') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(exchange_id as varchar) as exchange_id,
        cast(staff_id as varchar) as staff_id,
        cast(counterpart_type as varchar) as counterpart_type,
        cast(counterpart_name as varchar) as counterpart_name,
        cast(started_on as date) as started_on,
        cast(ended_on as date) as ended_on,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_hr_personnel_exchange
)

select * from final
