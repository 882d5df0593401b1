-- 職員による業務改善提案件数の増加率: 100 * (proposals submitted in FY / proposals submitted in
-- FY-1 - 1). Null when FY-1 has no proposal: growth from nothing is undefined. Null too when
-- FY itself has no proposal: like every count here, a year without a single source row is no
-- data (an export not yet arrived, or the year in progress), not a fall of 100%.
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_proposals_deduplicated as (
    select * from {{ ref('int_proposals_deduplicated') }}
),

proposal_counts as (
    select
        ward_code,
        {{ fiscal_year_of('submitted_on') }} as fiscal_year,
        count(*) as proposal_count
    from int_proposals_deduplicated
    where submitted_on is not null
    group by ward_code, {{ fiscal_year_of('submitted_on') }}
),

counts_with_previous_year as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        coalesce(current_year.proposal_count, 0) as proposals_this_year,
        coalesce(previous_year.proposal_count, 0) as proposals_previous_year
    from int_fiscal_year_spine
    left join proposal_counts as current_year
        on
            int_fiscal_year_spine.ward_code = current_year.ward_code
            and int_fiscal_year_spine.fiscal_year = current_year.fiscal_year
    left join proposal_counts as previous_year
        on
            int_fiscal_year_spine.ward_code = previous_year.ward_code
            and int_fiscal_year_spine.fiscal_year - 1 = previous_year.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        proposals_this_year as numerator,
        proposals_previous_year as denominator,
        case
            when proposals_previous_year > 0 and proposals_this_year > 0
                then 100.0 * (cast(proposals_this_year as double) / proposals_previous_year - 1)
        end as value
    from counts_with_previous_year
)

select * from final
