-- 基幹業務システムの標準準拠システムへの移行完了率: 100 * |the standardised core business systems
-- whose migration is complete (移行状態 移行完了) with a completion date (移行完了日) on or before FY
-- end| / 20, in percent: the 20 systems are fixed by law (地方公共団体情報システムの標準化に関する法律),
-- so the denominator does not depend on how many the snapshot lists. Every FY reads the ward's
-- latest snapshot overall: it dates each completion, so earlier years are read back from it,
-- and a migration completed after FY end does not count for FY.
-- No data when the ward has no snapshot dated on or after FY start.
{%- set standardised_system_count = 20 %}

with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_source_coverage as (
    select * from {{ ref('int_source_coverage') }}
),

int_system_migration_snapshots_deduplicated as (
    select * from {{ ref('int_system_migration_snapshots_deduplicated') }}
),

system_migration_coverage as (
    select
        ward_code,
        last_reference_date
    from int_source_coverage
    where raw_table = 'dx_office_system_migration'
),

fiscal_years as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        {{ fiscal_year_end_date('int_fiscal_year_spine.fiscal_year') }} as fiscal_year_end_date,
        {{ has_spoken_for_fiscal_year(
            'system_migration_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }} as system_migration_has_spoken
    from int_fiscal_year_spine
    left join system_migration_coverage
        on int_fiscal_year_spine.ward_code = system_migration_coverage.ward_code
),

latest_snapshots as (
    select
        ward_code,
        max(reference_date) as snapshot_date
    from int_system_migration_snapshots_deduplicated
    group by ward_code
),

systems_of_latest_snapshots as (
    select int_system_migration_snapshots_deduplicated.*
    from int_system_migration_snapshots_deduplicated
    inner join latest_snapshots
        on
            int_system_migration_snapshots_deduplicated.ward_code = latest_snapshots.ward_code
            and int_system_migration_snapshots_deduplicated.reference_date
            = latest_snapshots.snapshot_date
),

migrated_system_counts as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        count(distinct systems_of_latest_snapshots.system_code) as migrated_system_count
    from fiscal_years
    inner join systems_of_latest_snapshots
        on fiscal_years.ward_code = systems_of_latest_snapshots.ward_code
    where
        systems_of_latest_snapshots.migration_status = '移行完了'
        and systems_of_latest_snapshots.migrated_on <= fiscal_years.fiscal_year_end_date
    group by fiscal_years.ward_code, fiscal_years.fiscal_year
),

counts_where_spoken as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        case
            when fiscal_years.system_migration_has_spoken
                then coalesce(migrated_system_counts.migrated_system_count, 0)
        end as migrated_system_count,
        case
            when fiscal_years.system_migration_has_spoken
                then {{ standardised_system_count }}
        end as standardised_system_count
    from fiscal_years
    left join migrated_system_counts
        on
            fiscal_years.ward_code = migrated_system_counts.ward_code
            and fiscal_years.fiscal_year = migrated_system_counts.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        migrated_system_count as numerator,
        standardised_system_count as denominator,
        100.0 * migrated_system_count / standardised_system_count as value
    from counts_where_spoken
)

select * from final
