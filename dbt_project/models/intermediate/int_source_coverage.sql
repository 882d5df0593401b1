-- Which exports each ward has sent of each raw table: the first and last reference date (基準日)
-- of its loaded exports. A dataset has spoken for (ward, FY) when its last reference date is on
-- or after the FY's start (April 1): then an indicator counting it is 0 when nothing matches,
-- not no data. An export with a header and no row leaves no raw row, only the loader's record
-- (stg_ops__file_loads): both are read, so that the coverage also holds on warehouses filled
-- without the loader (the dbt tests insert raw rows directly).
{%- set staging_models = [
    ('hr_staff', 'stg_hr__staff'),
    ('hr_skill_assessment', 'stg_hr__skill_assessments'),
    ('hr_dx_leader_certification', 'stg_hr__dx_leader_certifications'),
    ('hr_external_specialist', 'stg_hr__external_specialist_contracts'),
    ('hr_personnel_exchange', 'stg_hr__personnel_exchanges'),
    ('hr_hr_regulation', 'stg_hr__regulations'),
    ('training_course', 'stg_training__courses'),
    ('training_session', 'stg_training__sessions'),
    ('training_enrollment', 'stg_training__enrollments'),
    ('proposals_proposal', 'stg_proposals__proposals'),
    ('dx_office_dx_project', 'stg_dx_office__projects'),
    ('dx_office_bpr_measurement', 'stg_dx_office__bpr_measurements'),
    ('dx_office_system_migration', 'stg_dx_office__system_migrations'),
    ('surveys_staff_survey', 'stg_surveys__staff_survey_responses'),
    ('surveys_procedure_survey', 'stg_surveys__procedure_survey_responses'),
    ('opendata_package', 'stg_opendata__packages'),
] %}

with

wards as (
    select * from {{ ref('wards') }}
),

stg_ops__file_loads as (
    select * from {{ ref('stg_ops__file_loads') }}
),

{% for raw_table, staging_model in staging_models %}
    {{ staging_model }} as (
        select * from {{ ref(staging_model) }}
    ),

{% endfor %}
raw_tables as (
    select
        unnest([
            {%- for raw_table, staging_model in staging_models -%}
                '{{ raw_table }}'{% if not loop.last %}, {% endif %}
            {%- endfor -%}
        ]) as raw_table
),

loaded_exports as (
    {% for raw_table, staging_model in staging_models %}
        select distinct
            '{{ raw_table }}' as raw_table,
            ward_code,
            reference_date
        from {{ staging_model }}
        union all
    {% endfor %}
    select
        raw_table,
        ward_code,
        reference_date
    from stg_ops__file_loads
),

reference_date_ranges as (
    select
        ward_code,
        raw_table,
        min(reference_date) as first_reference_date,
        max(reference_date) as last_reference_date
    from loaded_exports
    where ward_code is not null and reference_date is not null
    group by ward_code, raw_table
),

ward_codes as (
    -- The wards of the reference list, and any other ward that sent an export: a ward that
    -- never sent a dataset keeps a row for it with no dates (never spoken).
    select ward_code from wards
    union
    select ward_code from reference_date_ranges
),

final as (
    select
        ward_codes.ward_code,
        raw_tables.raw_table,
        reference_date_ranges.first_reference_date,
        reference_date_ranges.last_reference_date
    from ward_codes
    cross join raw_tables
    left join reference_date_ranges
        on
            ward_codes.ward_code = reference_date_ranges.ward_code
            and raw_tables.raw_table = reference_date_ranges.raw_table
)

select * from final
