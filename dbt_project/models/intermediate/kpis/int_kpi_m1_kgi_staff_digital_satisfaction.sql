-- 職員のデジタル業務環境満足度: among the staff-survey (職員意識調査) responses answered in FY that
-- score the digital-work-environment question, the share satisfied (4 or 5 on 1-5), in percent.
-- numerator = satisfied answers, denominator = answers with a score. No data when the survey
-- has not spoken for FY (no export dated on or after FY start, empty ones included) or when
-- FY has no scored answer (a rate over nothing).
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_source_coverage as (
    select * from {{ ref('int_source_coverage') }}
),

int_staff_survey_responses_deduplicated as (
    select * from {{ ref('int_staff_survey_responses_deduplicated') }}
),

staff_survey_coverage as (
    select
        ward_code,
        last_reference_date
    from int_source_coverage
    where raw_table = 'surveys_staff_survey'
),

fiscal_years as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        {{ has_spoken_for_fiscal_year(
            'staff_survey_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }} as staff_survey_has_spoken
    from int_fiscal_year_spine
    left join staff_survey_coverage
        on int_fiscal_year_spine.ward_code = staff_survey_coverage.ward_code
),

answers as (
    -- A blank score is a question left unanswered: the response does not count.
    select
        ward_code,
        {{ fiscal_year_of('answered_on') }} as fiscal_year,
        satisfaction
    from int_staff_survey_responses_deduplicated
    where answered_on is not null and satisfaction is not null
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
            when fiscal_years.staff_survey_has_spoken
                then coalesce(answer_counts.satisfied_count, 0)
        end as satisfied_count,
        case
            when fiscal_years.staff_survey_has_spoken
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
