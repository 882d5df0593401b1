-- A later export's version of a record replaces the earlier one, whether the export is a
-- delta or a full dump; a record absent from a later export is kept (exports never delete).
-- Keys are unique only within a ward: different wards reuse the same numbers.
with

stg_dx_office__bpr_measurements as (
    select * from {{ ref('stg_dx_office__bpr_measurements') }}
),

identifiable_versions as (
    -- A row without its key cannot be matched to other versions; the raw-layer suites
    -- report it, the KPIs leave it out.
    select *
    from stg_dx_office__bpr_measurements
    where task_code is not null and measurement_type is not null and measured_on is not null
),

latest_versions as (
    select *
    from identifiable_versions
    qualify row_number() over (
        partition by ward_code, task_code, measurement_type, measured_on
        order by reference_date desc, loaded_at desc, source_row desc
    ) = 1
),

final as (
    select * from latest_versions
)

select * from final
