-- The loader's record of every export file currently loaded (ops.file_loads, one row per raw
-- table x ward x reference date), empty files included. An export with a header and no row
-- is a register's real answer ("none so far") that leaves no row in its raw table: only this
-- record says the ward has spoken.
-- Not a dbt source on purpose: the table is the loader's bookkeeping, written together with
-- the raw rows by every raw asset, and as a source it would become an orphan Dagster asset
-- (no group, never materialised). Warehouses built without the ops schema (dbt tests on raw
-- tables only) read no loads.
{%- set file_loads_relation = adapter.get_relation(
    database=target.database, schema='ops', identifier='file_loads'
) if execute else none %}

with

{% if file_loads_relation is not none %}
    ops_file_loads as (
        select * from {{ file_loads_relation }}
    ),
{% else %}
    ops_file_loads as (
        select
            cast(null as varchar) as raw_table,
            cast(null as varchar) as ward_code,
            cast(null as date) as reference_date,
            cast(null as varchar) as source_file,
            cast(null as varchar) as file_sha256,
            cast(null as integer) as rows_loaded,
            cast(null as timestamp) as loaded_at
        where false
    ),
{% endif %}

final as (
    select
        cast(raw_table as varchar) as raw_table,
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(rows_loaded as integer) as rows_loaded,
        cast(loaded_at as timestamp) as loaded_at
    from ops_file_loads
)

select * from final
