-- A later export's version of a record replaces the earlier one, whether the export is a
-- delta or a full dump; a record absent from a later export is kept (exports never delete).
-- Keys are unique only within a ward: different wards reuse the same numbers.
with

stg_hr__personnel_exchanges as (
    select * from {{ ref('stg_hr__personnel_exchanges') }}
),

identifiable_versions as (
    -- A row without its key cannot be matched to other versions; the raw-layer suites
    -- report it, the KPIs leave it out.
    select *
    from stg_hr__personnel_exchanges
    where exchange_id is not null
),

latest_versions as (
    select *
    from identifiable_versions
    qualify row_number() over (
        partition by ward_code, exchange_id
        order by reference_date desc, loaded_at desc, source_row desc
    ) = 1
),

final as (
    select * from latest_versions
)

select * from final
