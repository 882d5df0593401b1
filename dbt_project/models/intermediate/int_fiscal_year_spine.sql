-- Every ward of the reference list x every fiscal year from the first to the last one seen
-- in any source, so that a ward without data for a year still shows up (as no_data) instead
-- of silently missing from the scorecard.
-- Dated events extend the range (a survey answer, a skill assessment, a BPR measurement after
-- the improvement, as a proposal or an enrolment does); the registers of long-lived records
-- (certifications, contracts, exchanges, regulations, projects) and the migration snapshots
-- extend it by their exports' reference dates only (first and last, empty exports included):
-- their records reach years back (a regulation in force since 2010, a certification of 2019),
-- and dating the scorecard from them would add years no other source says anything about.
{%- set register_tables -%}
    'hr_dx_leader_certification', 'hr_external_specialist', 'hr_personnel_exchange',
    'hr_hr_regulation', 'dx_office_dx_project', 'dx_office_bpr_measurement',
    'dx_office_system_migration'
{%- endset %}

with

wards as (
    select * from {{ ref('wards') }}
),

int_staff_snapshots_deduplicated as (
    select * from {{ ref('int_staff_snapshots_deduplicated') }}
),

int_training_courses_deduplicated as (
    select * from {{ ref('int_training_courses_deduplicated') }}
),

int_training_sessions_deduplicated as (
    select * from {{ ref('int_training_sessions_deduplicated') }}
),

int_training_enrollments_deduplicated as (
    select * from {{ ref('int_training_enrollments_deduplicated') }}
),

int_proposals_deduplicated as (
    select * from {{ ref('int_proposals_deduplicated') }}
),

int_opendata_packages_deduplicated as (
    select * from {{ ref('int_opendata_packages_deduplicated') }}
),

int_source_coverage as (
    select * from {{ ref('int_source_coverage') }}
),

int_skill_assessments_deduplicated as (
    select * from {{ ref('int_skill_assessments_deduplicated') }}
),

int_bpr_measurements_deduplicated as (
    select * from {{ ref('int_bpr_measurements_deduplicated') }}
),

int_staff_survey_responses_deduplicated as (
    select * from {{ ref('int_staff_survey_responses_deduplicated') }}
),

int_procedure_survey_responses_deduplicated as (
    select * from {{ ref('int_procedure_survey_responses_deduplicated') }}
),

fiscal_years_seen as (
    select {{ fiscal_year_of('reference_date') }} as fiscal_year
    from int_staff_snapshots_deduplicated
    union all
    select fiscal_year
    from int_training_courses_deduplicated
    union all
    select {{ fiscal_year_of('session_date') }} as fiscal_year
    from int_training_sessions_deduplicated
    union all
    select {{ fiscal_year_of('applied_on') }} as fiscal_year
    from int_training_enrollments_deduplicated
    union all
    select {{ fiscal_year_of('completed_on') }} as fiscal_year
    from int_training_enrollments_deduplicated
    union all
    select {{ fiscal_year_of('submitted_on') }} as fiscal_year
    from int_proposals_deduplicated
    union all
    select {{ fiscal_year_of('reference_date') }} as fiscal_year
    from int_opendata_packages_deduplicated
    union all
    select {{ fiscal_year_of('assessed_on') }} as fiscal_year
    from int_skill_assessments_deduplicated
    union all
    select {{ fiscal_year_of('answered_on') }} as fiscal_year
    from int_staff_survey_responses_deduplicated
    union all
    -- answered_at is JST wall time: its date is the JST date.
    select {{ fiscal_year_of('cast(answered_at as date)') }} as fiscal_year
    from int_procedure_survey_responses_deduplicated
    union all
    select {{ fiscal_year_of('measured_on') }} as fiscal_year
    from int_bpr_measurements_deduplicated
    where measurement_type = '改善後'
    union all
    select {{ fiscal_year_of('first_reference_date') }} as fiscal_year
    from int_source_coverage
    where raw_table in ({{ register_tables }})
    union all
    select {{ fiscal_year_of('last_reference_date') }} as fiscal_year
    from int_source_coverage
    where raw_table in ({{ register_tables }})
),

fiscal_year_range as (
    select
        min(fiscal_year) as first_fiscal_year,
        max(fiscal_year) as last_fiscal_year
    from fiscal_years_seen
),

fiscal_years as (
    select
        cast(
            unnest(generate_series(first_fiscal_year, last_fiscal_year)) as integer
        ) as fiscal_year
    from fiscal_year_range
    where first_fiscal_year is not null
),

wards_by_fiscal_year as (
    select
        wards.ward_code,
        fiscal_years.fiscal_year,
        {{ fiscal_year_start_date('fiscal_years.fiscal_year') }} as fiscal_year_start_date,
        {{ fiscal_year_end_date('fiscal_years.fiscal_year') }} as fiscal_year_end_date
    from wards
    cross join fiscal_years
),

final as (
    select * from wards_by_fiscal_year
)

select * from final
