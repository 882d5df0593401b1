-- The gap between wards in published open data, per fiscal year: the article contrasts the
-- best and the worst ward (567 vs 98 datasets, about 5.8x). Only wards with a catalogue
-- snapshot in the year take part; the ratio is undefined when the smallest count is 0.
-- The counts come from each ward's latest catalogue snapshot in the year: the mart says of
-- which day, since an unreachable catalogue leaves the last good snapshot standing.
with

fct_kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

int_opendata_packages_deduplicated as (
    select * from {{ ref('int_opendata_packages_deduplicated') }}
),

open_dataset_values as (
    select
        fiscal_year,
        ward_code,
        value as open_dataset_count
    from fct_kpi_values
    where indicator_id = 'ctx_open_datasets'
),

extremes_per_fiscal_year as (
    select
        fiscal_year,
        count(open_dataset_count) as wards_reporting,
        max(open_dataset_count) as max_open_datasets,
        min(open_dataset_count) as min_open_datasets
    from open_dataset_values
    group by fiscal_year
),

snapshots_with_fiscal_year as (
    select distinct
        ward_code,
        reference_date,
        {{ fiscal_year_of('reference_date') }} as fiscal_year
    from int_opendata_packages_deduplicated
),

snapshot_date_per_ward as (
    -- The JST date of the snapshot a ward's count comes from: its latest in the fiscal year,
    -- the one int_kpi_ctx_open_datasets counts.
    select
        ward_code,
        fiscal_year,
        max(reference_date) as snapshot_date
    from snapshots_with_fiscal_year
    group by ward_code, fiscal_year
),

snapshot_dates_per_fiscal_year as (
    select
        fiscal_year,
        max(snapshot_date) as snapshot_date,
        min(snapshot_date) as oldest_snapshot_date
    from snapshot_date_per_ward
    group by fiscal_year
),

wards_at_extremes as (
    -- Ties go to the smallest ward code so the mart is deterministic.
    select
        extremes_per_fiscal_year.fiscal_year,
        min(open_dataset_values.ward_code) filter (
            where open_dataset_values.open_dataset_count
            = extremes_per_fiscal_year.max_open_datasets
        ) as max_ward_code,
        min(open_dataset_values.ward_code) filter (
            where open_dataset_values.open_dataset_count
            = extremes_per_fiscal_year.min_open_datasets
        ) as min_ward_code
    from extremes_per_fiscal_year
    inner join open_dataset_values
        on extremes_per_fiscal_year.fiscal_year = open_dataset_values.fiscal_year
    group by extremes_per_fiscal_year.fiscal_year
),

final as (
    select
        extremes_per_fiscal_year.fiscal_year,
        extremes_per_fiscal_year.wards_reporting,
        extremes_per_fiscal_year.max_open_datasets,
        wards_at_extremes.max_ward_code,
        extremes_per_fiscal_year.min_open_datasets,
        wards_at_extremes.min_ward_code,
        snapshot_dates_per_fiscal_year.snapshot_date,
        snapshot_dates_per_fiscal_year.oldest_snapshot_date,
        case
            when extremes_per_fiscal_year.min_open_datasets > 0
                then
                    extremes_per_fiscal_year.max_open_datasets
                    / extremes_per_fiscal_year.min_open_datasets
        end as max_min_gap_ratio
    from extremes_per_fiscal_year
    left join wards_at_extremes
        on extremes_per_fiscal_year.fiscal_year = wards_at_extremes.fiscal_year
    left join snapshot_dates_per_fiscal_year
        on extremes_per_fiscal_year.fiscal_year = snapshot_dates_per_fiscal_year.fiscal_year
)

select * from final
