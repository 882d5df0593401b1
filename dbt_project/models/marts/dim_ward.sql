with

wards as (
    select * from {{ ref('wards') }}
),

final as (
    select
        ward_code,
        ward_name_ja,
        ward_name_en,
        ckan_organization
    from wards
)

select * from final
