-- 職名 (role) and 契約区分 (contract_type: 新規 a hire, 更新 a renewal) stay as the ward writes
-- them; a blank 任期終了日 (term_end) is an open-ended contract.
with

source_hr_external_specialist as (
    select * from {{ source('raw', 'hr_external_specialist') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(contract_id as varchar) as contract_id,
        cast(staff_id as varchar) as staff_id,
        cast(role as varchar) as specialist_role,
        cast(term_start as date) as term_start,
        cast(term_end as date) as term_end,
        cast(contract_type as varchar) as contract_type,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_hr_external_specialist
)

select * from final
