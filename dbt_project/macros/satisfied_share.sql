{#- The share of satisfied answers (4 or 5 on a 1-5 scale) per ward and fiscal year, in
    percent, over every row of int_fiscal_year_spine: the formula the two survey KGIs share.
    `responses` is the latest-version model of the survey, `raw_table` its raw table (for
    "has spoken"), `answered_on` the expression of an answer's JST date. numerator = satisfied
    answers, denominator = answers with a score (a blank score is a question left unanswered).
    No data when the survey has not spoken for FY, or FY has no scored answer. -#}
{% macro satisfied_share(responses, raw_table, answered_on) %}
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_source_coverage as (
    select * from {{ ref('int_source_coverage') }}
),

survey_responses as (
    select * from {{ ref(responses) }}
),

survey_coverage as (
    select
        ward_code,
        last_reference_date
    from int_source_coverage
    where raw_table = '{{ raw_table }}'
),

fiscal_years as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        {{ has_spoken_for_fiscal_year(
            'survey_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }} as survey_has_spoken
    from int_fiscal_year_spine
    left join survey_coverage
        on int_fiscal_year_spine.ward_code = survey_coverage.ward_code
),

answers as (
    select
        ward_code,
        {{ fiscal_year_of(answered_on) }} as fiscal_year,
        satisfaction
    from survey_responses
    where {{ answered_on }} is not null and satisfaction is not null
),

answer_counts as (
    select
        ward_code,
        fiscal_year,
        count(*) as answer_count,
        count(*) filter (where satisfaction in (4, 5)) as satisfied_count
    from answers
    group by ward_code, fiscal_year
),

counts_where_spoken as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        case
            when fiscal_years.survey_has_spoken
                then coalesce(answer_counts.satisfied_count, 0)
        end as satisfied_count,
        case
            when fiscal_years.survey_has_spoken
                then coalesce(answer_counts.answer_count, 0)
        end as answer_count
    from fiscal_years
    left join answer_counts
        on
            fiscal_years.ward_code = answer_counts.ward_code
            and fiscal_years.fiscal_year = answer_counts.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        satisfied_count as numerator,
        answer_count as denominator,
        case
            when answer_count > 0
                then 100.0 * satisfied_count / answer_count
        end as value
    from counts_where_spoken
)

select * from final
{% endmacro %}
