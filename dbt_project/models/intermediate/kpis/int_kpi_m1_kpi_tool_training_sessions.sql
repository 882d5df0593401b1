-- ツール活用研修の年間開催回数: sessions held (session date in FY) of courses in the
-- tool-training (ツール活用) category. No data when the ward has no session dated in FY; a year
-- with sessions of other categories only counts 0.
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_training_sessions_deduplicated as (
    select * from {{ ref('int_training_sessions_deduplicated') }}
),

int_training_courses_deduplicated as (
    select * from {{ ref('int_training_courses_deduplicated') }}
),

sessions_with_category as (
    select
        int_training_sessions_deduplicated.ward_code,
        int_training_sessions_deduplicated.session_id,
        {{ fiscal_year_of('int_training_sessions_deduplicated.session_date') }} as fiscal_year,
        int_training_courses_deduplicated.category
    from int_training_sessions_deduplicated
    left join int_training_courses_deduplicated
        on
            int_training_sessions_deduplicated.ward_code
            = int_training_courses_deduplicated.ward_code
            and int_training_sessions_deduplicated.course_code
            = int_training_courses_deduplicated.course_code
    where int_training_sessions_deduplicated.session_date is not null
),

tool_session_counts as (
    select
        ward_code,
        fiscal_year,
        count(distinct session_id) filter (where category = 'ツール活用') as tool_session_count
    from sessions_with_category
    group by ward_code, fiscal_year
),

final as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        tool_session_counts.tool_session_count as numerator,
        cast(null as bigint) as denominator,
        cast(tool_session_counts.tool_session_count as double) as value
    from int_fiscal_year_spine
    left join tool_session_counts
        on
            int_fiscal_year_spine.ward_code = tool_session_counts.ward_code
            and int_fiscal_year_spine.fiscal_year = tool_session_counts.fiscal_year
)

select * from final
