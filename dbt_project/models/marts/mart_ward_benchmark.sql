-- How the wards compare, per indicator and fiscal year: each ward's rank (1 = best by the
-- indicator's direction) and percentile among the wards with a value, beside the year's
-- median, best and worst values and the gap ratio between best and worst (the article's 567
-- vs 98 open datasets is a gap of 5.8). Wards without a value are not ranked.
with

fct_kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

dim_ward as (
    select * from {{ ref('dim_ward') }}
),

valued as (
    select
        ward_code,
        fiscal_year,
        indicator_id,
        direction,
        value,
        -- Oriented so that larger is better whatever the direction.
        case when direction = 'lower_is_better' then -value else value end as merit
    from fct_kpi_values
    where value is not null
),

ranked as (
    select
        *,
        rank() over (
            partition by indicator_id, fiscal_year order by merit desc
        ) as rank,
        count(*) over (partition by indicator_id, fiscal_year) as wards_ranked,
        -- 100 for the best ward, 0 for the worst; 100 when a ward is alone.
        100 * coalesce(
            percent_rank() over (partition by indicator_id, fiscal_year order by merit asc),
            1
        ) as percentile
    from valued
),

per_indicator_year as (
    select
        indicator_id,
        fiscal_year,
        median(value) as median_value,
        arg_max(value, merit) as best_value,
        arg_min(value, merit) as worst_value,
        -- Ties: the lowest ward code, so the choice is stable from build to build.
        first(ward_code order by merit desc, ward_code asc) as best_ward_code,
        first(ward_code order by merit asc, ward_code asc) as worst_ward_code
    from valued
    group by indicator_id, fiscal_year
),

final as (
    select
        ranked.indicator_id,
        ranked.fiscal_year,
        ranked.ward_code,
        dim_ward.ward_name_ja,
        ranked.value,
        ranked.rank,
        ranked.wards_ranked,
        ranked.percentile,
        per_indicator_year.median_value,
        per_indicator_year.best_value,
        per_indicator_year.worst_value,
        per_indicator_year.best_ward_code,
        per_indicator_year.worst_ward_code,
        -- A ratio of two positive values only: a growth rate of -12% gives no gap.
        case
            when
                per_indicator_year.best_value <= 0 or per_indicator_year.worst_value <= 0
                then null
            when ranked.direction = 'lower_is_better'
                then per_indicator_year.worst_value / per_indicator_year.best_value
            else per_indicator_year.best_value / per_indicator_year.worst_value
        end as gap_ratio
    from ranked
    inner join per_indicator_year
        on
            ranked.indicator_id = per_indicator_year.indicator_id
            and ranked.fiscal_year = per_indicator_year.fiscal_year
    left join dim_ward
        on ranked.ward_code = dim_ward.ward_code
)

select * from final
