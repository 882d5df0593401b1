-- answered_at is JST wall time as the survey tool records it (no time zone): its date is
-- the JST date that decides the fiscal year. A null satisfaction is a blank answer.
with

source_surveys_procedure_survey as (
    select * from {{ source('raw', 'surveys_procedure_survey') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(response_id as varchar) as response_id,
        cast(procedure_code as varchar) as procedure_code,
        cast(procedure_name as varchar) as procedure_name,
        cast(answered_at as timestamp) as answered_at,
        cast(satisfaction as integer) as satisfaction,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_surveys_procedure_survey
)

select * from final
