-- Cross-file rule (README.md, "Rules across files"): a 研修区分 (course category) that a ward
-- planned in the fiscal year before its latest complete one and no longer plans in it. The
-- KPIs count courses and sessions by category: a category that vanishes is a programme
-- dropped, or an export that now files its courses under another one. A fiscal year is
-- complete for a ward once its training system exported courses dated after the year ended
-- (the next year's plan): no course can be added to it any more.
{{ config(
    severity='warn',
    meta={
        'description': 'A course category a ward had in the previous fiscal year is missing'
            ' from its latest complete fiscal year. Failing rows name the files of both'
            ' years.',
    },
) }}

{%- set accepted = var('accepted_vanished_values') | map('string') | list %}

with

int_training_courses_deduplicated as (
    select * from {{ ref('int_training_courses_deduplicated') }}
),

latest_complete_fiscal_years as (
    select
        ward_code,
        {{ fiscal_year_of('max(reference_date)') }} - 1 as fiscal_year
    from int_training_courses_deduplicated
    group by ward_code
),

courses_by_category as (
    select
        ward_code,
        fiscal_year,
        category,
        count(*) as courses,
        string_agg(distinct source_file, ', ' order by source_file) as source_files
    from int_training_courses_deduplicated
    where category is not null
    group by ward_code, fiscal_year, category
),

source_files_by_fiscal_year as (
    select
        ward_code,
        fiscal_year,
        string_agg(distinct source_file, ', ' order by source_file) as source_files
    from int_training_courses_deduplicated
    group by ward_code, fiscal_year
),

previous_year_categories as (
    select
        latest_complete_fiscal_years.ward_code,
        latest_complete_fiscal_years.fiscal_year,
        courses_by_category.category,
        courses_by_category.courses as previous_year_courses,
        courses_by_category.source_files as previous_year_source_files
    from latest_complete_fiscal_years
    inner join courses_by_category
        on
            latest_complete_fiscal_years.ward_code = courses_by_category.ward_code
            and latest_complete_fiscal_years.fiscal_year - 1 = courses_by_category.fiscal_year
),

vanished_categories as (
    select
        previous_year_categories.ward_code,
        previous_year_categories.fiscal_year,
        previous_year_categories.category,
        previous_year_categories.previous_year_courses,
        previous_year_categories.previous_year_source_files,
        source_files_by_fiscal_year.source_files as fiscal_year_source_files
    from previous_year_categories
    left join courses_by_category
        on
            previous_year_categories.ward_code = courses_by_category.ward_code
            and previous_year_categories.fiscal_year = courses_by_category.fiscal_year
            and previous_year_categories.category = courses_by_category.category
    left join source_files_by_fiscal_year
        on
            previous_year_categories.ward_code = source_files_by_fiscal_year.ward_code
            and previous_year_categories.fiscal_year = source_files_by_fiscal_year.fiscal_year
    where
        courses_by_category.category is null
        and not list_contains(
            cast({{ accepted }} as varchar[]),
            previous_year_categories.ward_code || ':' || previous_year_categories.category
        )
),

final as (
    select * from vanished_categories
)

select * from final
