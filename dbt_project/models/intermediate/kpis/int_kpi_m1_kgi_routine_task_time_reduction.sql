-- 定型業務の処理時間削減率: for each routine task (業務コード) with an after-improvement (改善後)
-- measurement dated in FY (the latest one in FY when there are several), paired with the
-- task's latest before-improvement (改善前) measurement dated strictly before it, of any FY:
-- 100 * (1 - sum(after minutes_per_case * after annual_cases)
--            / sum(before minutes_per_case * before annual_cases)),
-- each measurement weighted by its own annual cases. numerator = the after sum, denominator =
-- the before sum, over the paired tasks. A task with no earlier before-measurement is left
-- out. No data when FY has no paired task, when the before sum is 0, or when the measurement
-- register has not spoken for FY (no export dated on or after FY start).
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_source_coverage as (
    select * from {{ ref('int_source_coverage') }}
),

int_bpr_measurements_deduplicated as (
    select * from {{ ref('int_bpr_measurements_deduplicated') }}
),

bpr_measurement_coverage as (
    select
        ward_code,
        last_reference_date
    from int_source_coverage
    where raw_table = 'dx_office_bpr_measurement'
),

fiscal_years as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        {{ has_spoken_for_fiscal_year(
            'bpr_measurement_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }} as bpr_measurement_has_spoken
    from int_fiscal_year_spine
    left join bpr_measurement_coverage
        on int_fiscal_year_spine.ward_code = bpr_measurement_coverage.ward_code
),

latest_after_measurement_of_each_fiscal_year as (
    select
        ward_code,
        task_code,
        {{ fiscal_year_of('measured_on') }} as fiscal_year,
        measured_on,
        minutes_per_case * annual_cases as annual_minutes
    from int_bpr_measurements_deduplicated
    where measurement_type = '改善後'
    qualify row_number() over (
        partition by ward_code, task_code, {{ fiscal_year_of('measured_on') }}
        order by measured_on desc
    ) = 1
),

paired_tasks as (
    -- The before-measurement is the latest one strictly before the after-measurement: a
    -- before-measurement taken later (a new round of improvement) belongs to the next pair.
    select
        latest_after_measurement_of_each_fiscal_year.ward_code,
        latest_after_measurement_of_each_fiscal_year.fiscal_year,
        latest_after_measurement_of_each_fiscal_year.task_code,
        latest_after_measurement_of_each_fiscal_year.annual_minutes as after_annual_minutes,
        before_measurements.minutes_per_case
        * before_measurements.annual_cases as before_annual_minutes
    from latest_after_measurement_of_each_fiscal_year
    inner join int_bpr_measurements_deduplicated as before_measurements
        on
            latest_after_measurement_of_each_fiscal_year.ward_code
            = before_measurements.ward_code
            and latest_after_measurement_of_each_fiscal_year.task_code
            = before_measurements.task_code
            and before_measurements.measurement_type = '改善前'
            and latest_after_measurement_of_each_fiscal_year.measured_on
            > before_measurements.measured_on
    qualify row_number() over (
        partition by
            latest_after_measurement_of_each_fiscal_year.ward_code,
            latest_after_measurement_of_each_fiscal_year.task_code,
            latest_after_measurement_of_each_fiscal_year.fiscal_year
        order by before_measurements.measured_on desc
    ) = 1
),

annual_minutes_of_paired_tasks as (
    -- Summed as decimals: a sum of doubles depends on the order DuckDB's threads add them
    -- in, and the same data must give the same published value on every run.
    select
        ward_code,
        fiscal_year,
        cast(
            sum(cast(after_annual_minutes as decimal(38, 6))) as double
        ) as after_annual_minutes,
        cast(
            sum(cast(before_annual_minutes as decimal(38, 6))) as double
        ) as before_annual_minutes
    from paired_tasks
    group by ward_code, fiscal_year
),

minutes_where_spoken as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        case
            when fiscal_years.bpr_measurement_has_spoken
                then annual_minutes_of_paired_tasks.after_annual_minutes
        end as after_annual_minutes,
        case
            when fiscal_years.bpr_measurement_has_spoken
                then annual_minutes_of_paired_tasks.before_annual_minutes
        end as before_annual_minutes
    from fiscal_years
    left join annual_minutes_of_paired_tasks
        on
            fiscal_years.ward_code = annual_minutes_of_paired_tasks.ward_code
            and fiscal_years.fiscal_year = annual_minutes_of_paired_tasks.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        after_annual_minutes as numerator,
        before_annual_minutes as denominator,
        case
            when before_annual_minutes > 0
                then 100.0 * (1 - after_annual_minutes / before_annual_minutes)
        end as value
    from minutes_where_spoken
)

select * from final
