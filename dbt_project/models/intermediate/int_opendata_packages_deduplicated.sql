-- A catalogue snapshot lists each package once, but CKAN pages can shift while paging and a
-- snapshot may be loaded twice: keep one row per package per snapshot, the last one loaded.
with

stg_opendata__packages as (
    select * from {{ ref('stg_opendata__packages') }}
),

identifiable_packages as (
    select *
    from stg_opendata__packages
    where snapshot_id is not null and package_id is not null
),

latest_versions as (
    select *
    from identifiable_packages
    qualify row_number() over (
        partition by ward_code, snapshot_id, package_id
        order by loaded_at desc, source_row desc
    ) = 1
),

final as (
    select * from latest_versions
)

select * from final
