-- オープンデータセット数: active public CKAN packages of the ward's organisation at the latest
-- catalogue snapshot taken in FY. The snapshot's fiscal year comes from its JST date
-- (reference_date), not from taken_at (naive UTC): a snapshot taken 2025-03-31 16:00 UTC is
-- 2025-04-01 in Tokyo and belongs to FY2025. A snapshot in which the organisation lists no
-- package is loaded with no row (only the loader's record, stg_ops__file_loads, holds it): it
-- counts 0.
-- A FY without a snapshot of its own, for which the catalogue has spoken (the ward has a
-- snapshot dated on or after FY start), is reconstructed from the ward's latest snapshot
-- overall: its active public packages created (metadata_created, naive UTC) before the end of
-- FY in Tokyo, i.e. before (FY end + 1 day) 00:00 JST = FY end 15:00 UTC. Packages deleted
-- since are not seen, so a reconstruction may undercount: is_reconstructed flags it.
-- No data when the ward has no snapshot dated on or after FY start.
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_source_coverage as (
    select * from {{ ref('int_source_coverage') }}
),

int_opendata_packages_deduplicated as (
    select * from {{ ref('int_opendata_packages_deduplicated') }}
),

stg_ops__file_loads as (
    select * from {{ ref('stg_ops__file_loads') }}
),

catalogue_coverage as (
    select
        ward_code,
        last_reference_date
    from int_source_coverage
    where raw_table = 'opendata_package'
),

package_snapshots as (
    select
        ward_code,
        snapshot_id,
        max(reference_date) as reference_date,
        max(taken_at) as taken_at
    from int_opendata_packages_deduplicated
    group by ward_code, snapshot_id
),

empty_snapshots as (
    select
        ward_code,
        source_file as snapshot_id,
        reference_date,
        cast(null as timestamp) as taken_at
    from stg_ops__file_loads
    where raw_table = 'opendata_package' and rows_loaded = 0
),

snapshots as (
    select
        ward_code,
        snapshot_id,
        reference_date,
        taken_at,
        {{ fiscal_year_of('reference_date') }} as fiscal_year
    from package_snapshots
    union all
    select
        ward_code,
        snapshot_id,
        reference_date,
        taken_at,
        {{ fiscal_year_of('reference_date') }} as fiscal_year
    from empty_snapshots
),

latest_snapshot_of_each_fiscal_year as (
    select *
    from snapshots
    qualify row_number() over (
        partition by ward_code, fiscal_year
        order by reference_date desc, taken_at desc, snapshot_id desc
    ) = 1
),

latest_snapshot_overall as (
    select *
    from snapshots
    qualify row_number() over (
        partition by ward_code
        order by reference_date desc, taken_at desc, snapshot_id desc
    ) = 1
),

active_public_packages as (
    -- Deleted or draft packages and private ones are not published open data.
    select
        ward_code,
        snapshot_id,
        package_id,
        metadata_created
    from int_opendata_packages_deduplicated
    where package_state = 'active' and is_private = false
),

snapshot_counts as (
    select
        latest_snapshot_of_each_fiscal_year.ward_code,
        latest_snapshot_of_each_fiscal_year.fiscal_year,
        count(distinct active_public_packages.package_id) as open_dataset_count
    from latest_snapshot_of_each_fiscal_year
    left join active_public_packages
        on
            latest_snapshot_of_each_fiscal_year.ward_code = active_public_packages.ward_code
            and latest_snapshot_of_each_fiscal_year.snapshot_id
            = active_public_packages.snapshot_id
    group by
        latest_snapshot_of_each_fiscal_year.ward_code,
        latest_snapshot_of_each_fiscal_year.fiscal_year
),

fiscal_years_to_reconstruct as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        -- (FY end + 1 day) 00:00 JST, in naive UTC like metadata_created.
        cast({{ fiscal_year_end_date('int_fiscal_year_spine.fiscal_year') }} as timestamp)
        + interval 15 hour as fiscal_year_end_utc
    from int_fiscal_year_spine
    left join catalogue_coverage
        on int_fiscal_year_spine.ward_code = catalogue_coverage.ward_code
    left join snapshot_counts
        on
            int_fiscal_year_spine.ward_code = snapshot_counts.ward_code
            and int_fiscal_year_spine.fiscal_year = snapshot_counts.fiscal_year
    where
        snapshot_counts.ward_code is null
        and {{ has_spoken_for_fiscal_year(
            'catalogue_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }}
),

reconstructed_counts as (
    select
        fiscal_years_to_reconstruct.ward_code,
        fiscal_years_to_reconstruct.fiscal_year,
        count(distinct active_public_packages.package_id) filter (
            where
            active_public_packages.metadata_created
            < fiscal_years_to_reconstruct.fiscal_year_end_utc
        ) as open_dataset_count
    from fiscal_years_to_reconstruct
    inner join latest_snapshot_overall
        on fiscal_years_to_reconstruct.ward_code = latest_snapshot_overall.ward_code
    left join active_public_packages
        on
            latest_snapshot_overall.ward_code = active_public_packages.ward_code
            and latest_snapshot_overall.snapshot_id = active_public_packages.snapshot_id
    group by fiscal_years_to_reconstruct.ward_code, fiscal_years_to_reconstruct.fiscal_year
),

open_dataset_counts as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        coalesce(
            snapshot_counts.open_dataset_count, reconstructed_counts.open_dataset_count
        ) as open_dataset_count,
        reconstructed_counts.ward_code is not null as is_reconstructed
    from int_fiscal_year_spine
    left join snapshot_counts
        on
            int_fiscal_year_spine.ward_code = snapshot_counts.ward_code
            and int_fiscal_year_spine.fiscal_year = snapshot_counts.fiscal_year
    left join reconstructed_counts
        on
            int_fiscal_year_spine.ward_code = reconstructed_counts.ward_code
            and int_fiscal_year_spine.fiscal_year = reconstructed_counts.fiscal_year
),

final as (
    -- The five columns of every KPI model first; is_reconstructed after them.
    select
        ward_code,
        fiscal_year,
        open_dataset_count as numerator,
        cast(null as bigint) as denominator,
        cast(open_dataset_count as double) as value,
        is_reconstructed
    from open_dataset_counts
)

select * from final
