-- 民間企業等との人事交流の年間実施件数: personnel exchanges with a private-sector counterpart
-- (交流先区分 民間企業) starting in FY.
-- No data when the exchange register has not spoken for FY (no export dated on or after FY
-- start); an export with no row is the register saying "none": spoken, and counts 0.
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_source_coverage as (
    select * from {{ ref('int_source_coverage') }}
),

int_personnel_exchanges_deduplicated as (
    select * from {{ ref('int_personnel_exchanges_deduplicated') }}
),

personnel_exchange_coverage as (
    select
        ward_code,
        last_reference_date
    from int_source_coverage
    where raw_table = 'hr_personnel_exchange'
),

fiscal_years as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        {{ fiscal_year_start_date('int_fiscal_year_spine.fiscal_year') }}
            as fiscal_year_start_date,
        {{ fiscal_year_end_date('int_fiscal_year_spine.fiscal_year') }} as fiscal_year_end_date,
        {{ has_spoken_for_fiscal_year(
            'personnel_exchange_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }} as personnel_exchange_has_spoken
    from int_fiscal_year_spine
    left join personnel_exchange_coverage
        on int_fiscal_year_spine.ward_code = personnel_exchange_coverage.ward_code
),

exchange_counts as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        count(distinct int_personnel_exchanges_deduplicated.exchange_id) as exchange_count
    from fiscal_years
    inner join int_personnel_exchanges_deduplicated
        on fiscal_years.ward_code = int_personnel_exchanges_deduplicated.ward_code
    where
        int_personnel_exchanges_deduplicated.counterpart_type = '民間企業'
        and int_personnel_exchanges_deduplicated.started_on
        between fiscal_years.fiscal_year_start_date and fiscal_years.fiscal_year_end_date
    group by fiscal_years.ward_code, fiscal_years.fiscal_year
),

counts_where_spoken as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        case
            when fiscal_years.personnel_exchange_has_spoken
                then coalesce(exchange_counts.exchange_count, 0)
        end as exchange_count
    from fiscal_years
    left join exchange_counts
        on
            fiscal_years.ward_code = exchange_counts.ward_code
            and fiscal_years.fiscal_year = exchange_counts.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        exchange_count as numerator,
        cast(null as bigint) as denominator,
        cast(exchange_count as double) as value
    from counts_where_spoken
)

select * from final
