-- オープンデータセット数: active public CKAN packages of the ward's organisation at the latest
-- catalogue snapshot taken in FY. The snapshot's fiscal year comes from its JST date
-- (reference_date), not from taken_at (naive UTC): a snapshot taken 2025-03-31 16:00 UTC is
-- 2025-04-01 in Tokyo and belongs to FY2025. No data when the ward has no snapshot in FY.
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_opendata_packages_deduplicated as (
    select * from {{ ref('int_opendata_packages_deduplicated') }}
),

snapshots as (
    select
        ward_code,
        snapshot_id,
        max(taken_at) as taken_at,
        {{ fiscal_year_of('max(reference_date)') }} as fiscal_year
    from int_opendata_packages_deduplicated
    group by ward_code, snapshot_id
),

latest_snapshot_of_each_fiscal_year as (
    select *
    from snapshots
    qualify row_number() over (
        partition by ward_code, fiscal_year
        order by taken_at desc, snapshot_id desc
    ) = 1
),

open_dataset_counts as (
    -- Deleted or draft packages and private ones are not published open data.
    select
        latest_snapshot_of_each_fiscal_year.ward_code,
        latest_snapshot_of_each_fiscal_year.fiscal_year,
        count(distinct int_opendata_packages_deduplicated.package_id) filter (
            where
            int_opendata_packages_deduplicated.package_state = 'active'
            and int_opendata_packages_deduplicated.is_private = false
        ) as open_dataset_count
    from latest_snapshot_of_each_fiscal_year
    inner join int_opendata_packages_deduplicated
        on
            latest_snapshot_of_each_fiscal_year.ward_code
            = int_opendata_packages_deduplicated.ward_code
            and latest_snapshot_of_each_fiscal_year.snapshot_id
            = int_opendata_packages_deduplicated.snapshot_id
    group by
        latest_snapshot_of_each_fiscal_year.ward_code,
        latest_snapshot_of_each_fiscal_year.fiscal_year
),

final as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        open_dataset_counts.open_dataset_count as numerator,
        cast(null as bigint) as denominator,
        cast(open_dataset_counts.open_dataset_count as double) as value
    from int_fiscal_year_spine
    left join open_dataset_counts
        on
            int_fiscal_year_spine.ward_code = open_dataset_counts.ward_code
            and int_fiscal_year_spine.fiscal_year = open_dataset_counts.fiscal_year
)

select * from final
