-- The whole catalogue (KGI / KSI / KPI and context) with its hierarchy: the measure (支援策)
-- each indicator belongs to, its tier, and the KGI a KSI or KPI serves.
with

indicators as (
    select * from {{ ref('indicators') }}
),

measures as (
    select * from {{ ref('measures') }}
),

indicator_source_tables as (
    select * from {{ ref('int_indicator_source_tables') }}
),

source_tables_per_indicator as (
    select
        indicator_id,
        string_agg(raw_table, ' ' order by raw_table) as source_tables
    from indicator_source_tables
    group by indicator_id
),

final as (
    select
        indicators.indicator_id,
        indicators.display_order,
        indicators.measure,
        measures.name_ja as measure_name_ja,
        measures.name_en as measure_name_en,
        indicators.tier,
        indicators.serves_kgi as serves_kgi_id,
        indicators.name_ja,
        indicators.name_en,
        indicators.unit,
        indicators.direction,
        indicators.target_value,
        indicators.deadline,
        indicators.source,
        source_tables_per_indicator.source_tables,
        indicators.definition,
        case
            when indicators.tier like 'KPI%' then 'KPI'
            else indicators.tier
        end as tier_group
    from indicators
    left join measures
        on indicators.measure = measures.measure
    left join source_tables_per_indicator
        on indicators.indicator_id = source_tables_per_indicator.indicator_id
)

select * from final
