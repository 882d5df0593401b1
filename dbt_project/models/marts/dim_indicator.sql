-- The whole catalogue (KGI / KSI / KPI and context), including indicators whose source is
-- not ingested yet: the scorecard lists them as not measured rather than forgetting them.
with

indicators as (
    select * from {{ ref('indicators') }}
),

final as (
    select
        indicator_id,
        measure,
        tier,
        name_ja,
        name_en,
        unit,
        direction,
        target_value,
        definition
    from indicators
)

select * from final
