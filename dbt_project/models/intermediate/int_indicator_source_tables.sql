-- Which raw tables each indicator is computed from: the sources indicators.yaml names, mapped
-- to the tables they are loaded into. The as-of date and the lineage of a value follow it.
with

indicators as (
    select * from {{ ref('indicators') }}
),

source_tables as (
    select * from {{ ref('source_tables') }}
),

named_sources as (
    select
        indicator_id,
        unnest(string_split(source, ' ')) as source_name
    from indicators
),

final as (
    select
        named_sources.indicator_id,
        source_tables.raw_table
    from named_sources
    inner join source_tables
        on named_sources.source_name = source_tables.source
)

select * from final
