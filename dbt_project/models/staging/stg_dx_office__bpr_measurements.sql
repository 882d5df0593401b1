-- measurement_type: 改善前 (before the improvement) | 改善後 (after).
with

source_dx_office_bpr_measurement as (
    select * from {{ source('raw', 'dx_office_bpr_measurement') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(task_code as varchar) as task_code,
        cast(task_name as varchar) as task_name,
        cast(measurement_type as varchar) as measurement_type,
        cast(measured_on as date) as measured_on,
        cast(minutes_per_case as double) as minutes_per_case,
        cast(annual_cases as integer) as annual_cases,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_dx_office_bpr_measurement
)

select * from final
