-- 事業名 (may name people) never reaches the raw layer. external_advice stays 有 | 無 as
-- exported; annual_savings_yen is blank when no saving was reported.
with

source_dx_office_dx_project as (
    select * from {{ source('raw', 'dx_office_dx_project') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(project_id as varchar) as project_id,
        cast(org_code as varchar) as org_code,
        cast(leader_staff_id as varchar) as leader_staff_id,
        cast(started_on as date) as started_on,
        cast(ended_on as date) as ended_on,
        cast(project_status as varchar) as project_status,
        cast(external_advice as varchar) as external_advice,
        cast(annual_savings_yen as bigint) as annual_savings_yen,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_dx_office_dx_project
)

select * from final
