-- Interior cells of the satisfaction table by 職層区分 (the survey's grade class): the
-- staff-survey (職員意識調査) answers of FY counted by 職員のデジタル業務環境満足度
-- (m1_kgi_staff_digital_satisfaction, macros/satisfied_share.sql: answered in FY, the
-- question scored), satisfied (4 or 5 on 1-5) or not, for the fiscal years the indicator has a
-- value. Every grade class with an answer has both cells, zeros included: the disclosure
-- control must see the zeros.
with

int_kpi_m1_kgi_staff_digital_satisfaction as (
    select * from {{ ref('int_kpi_m1_kgi_staff_digital_satisfaction') }}
),

int_staff_survey_responses_deduplicated as (
    select * from {{ ref('int_staff_survey_responses_deduplicated') }}
),

measured_fiscal_years as (
    select
        ward_code,
        fiscal_year
    from int_kpi_m1_kgi_staff_digital_satisfaction
    where value is not null
),

satisfaction_classes as (
    select unnest(['satisfied', 'not_satisfied']) as satisfaction_class
),

answers as (
    select
        ward_code,
        {{ fiscal_year_of('answered_on') }} as fiscal_year,
        -- An answer without its class still counts in the indicator: it needs a row too.
        coalesce(grade_group, '不明') as grade_class,
        case when satisfaction in (4, 5) then 'satisfied' else 'not_satisfied' end
            as satisfaction_class
    from int_staff_survey_responses_deduplicated
    where answered_on is not null and satisfaction is not null
),

measured_answers as (
    select answers.*
    from answers
    inner join measured_fiscal_years
        on
            answers.ward_code = measured_fiscal_years.ward_code
            and answers.fiscal_year = measured_fiscal_years.fiscal_year
),

grade_classes_answered as (
    select distinct
        ward_code,
        fiscal_year,
        grade_class
    from measured_answers
),

answer_counts as (
    select
        ward_code,
        fiscal_year,
        grade_class,
        satisfaction_class,
        count(*) as people
    from measured_answers
    group by all
),

cells as (
    select
        grade_classes_answered.ward_code,
        grade_classes_answered.fiscal_year,
        grade_classes_answered.grade_class,
        satisfaction_classes.satisfaction_class,
        coalesce(answer_counts.people, 0) as people
    from grade_classes_answered
    cross join satisfaction_classes
    left join answer_counts
        on
            grade_classes_answered.ward_code = answer_counts.ward_code
            and grade_classes_answered.fiscal_year = answer_counts.fiscal_year
            and grade_classes_answered.grade_class = answer_counts.grade_class
            and satisfaction_classes.satisfaction_class = answer_counts.satisfaction_class
),

final as (
    select * from cells
)

select * from final
