-- Which fiscal years each loaded export file can inform, from the records the KPI models read
-- in it: the lineage of a value (fct_kpi_lineage) is the files of its sources whose range
-- holds its fiscal year. A keyed dataset's file counts through the current version of its
-- records (a record replaced by a later export no longer points at the old file); a snapshot
-- dataset's through the snapshot a value used. A null bound is open: a certification counts
-- until it lapses, a regulation until repealed, a before-measurement for any later one, the
-- latest system-migration snapshot for every year.
-- A register's latest export also informs every year up to its date (see below).
-- Ranges follow the formulas: an enrolment from its application to its completion year, a
-- proposal also for the next year's growth, a contract from 31 days before it starts (the
-- renewal of a term ending then) to 31 days after it ends.
with

int_population_members_by_fiscal_year as (
    select * from {{ ref('int_population_members_by_fiscal_year') }}
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

int_skill_assessments_deduplicated as (
    select * from {{ ref('int_skill_assessments_deduplicated') }}
),

int_dx_leader_certifications_deduplicated as (
    select * from {{ ref('int_dx_leader_certifications_deduplicated') }}
),

int_external_specialist_contracts_deduplicated as (
    select * from {{ ref('int_external_specialist_contracts_deduplicated') }}
),

int_personnel_exchanges_deduplicated as (
    select * from {{ ref('int_personnel_exchanges_deduplicated') }}
),

int_regulations_deduplicated as (
    select * from {{ ref('int_regulations_deduplicated') }}
),

int_dx_projects_deduplicated as (
    select * from {{ ref('int_dx_projects_deduplicated') }}
),

int_bpr_measurements_deduplicated as (
    select * from {{ ref('int_bpr_measurements_deduplicated') }}
),

int_system_migration_snapshots_deduplicated as (
    select * from {{ ref('int_system_migration_snapshots_deduplicated') }}
),

int_staff_survey_responses_deduplicated as (
    select * from {{ ref('int_staff_survey_responses_deduplicated') }}
),

int_procedure_survey_responses_deduplicated as (
    select * from {{ ref('int_procedure_survey_responses_deduplicated') }}
),

int_opendata_packages_deduplicated as (
    select * from {{ ref('int_opendata_packages_deduplicated') }}
),

stg_ops__file_loads as (
    select * from {{ ref('stg_ops__file_loads') }}
),

population_snapshots as (
    -- The snapshot each ward's population of a fiscal year was counted on (one per year):
    -- joined to the roster files by date alone, not member by member (a join of every
    -- member with every row of their snapshot grew with staff squared).
    select distinct
        ward_code,
        fiscal_year,
        snapshot_date
    from int_population_members_by_fiscal_year
),

roster_files as (
    select distinct
        ward_code,
        source_file,
        file_sha256,
        reference_date
    from int_staff_snapshots_deduplicated
),

rosters_used as (
    select
        'hr_staff' as raw_table,
        roster_files.ward_code,
        roster_files.source_file,
        roster_files.file_sha256,
        roster_files.reference_date,
        population_snapshots.fiscal_year as first_fiscal_year,
        population_snapshots.fiscal_year as last_fiscal_year
    from population_snapshots
    inner join roster_files
        on
            population_snapshots.ward_code = roster_files.ward_code
            and population_snapshots.snapshot_date = roster_files.reference_date
),

record_ranges as (
    select
        'training_course' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        fiscal_year as first_fiscal_year,
        fiscal_year as last_fiscal_year
    from int_training_courses_deduplicated
    union all
    select
        'training_session' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        {{ fiscal_year_of('session_date') }} as first_fiscal_year,
        {{ fiscal_year_of('session_date') }} as last_fiscal_year
    from int_training_sessions_deduplicated
    union all
    select
        'training_enrollment' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        {{ fiscal_year_of('coalesce(applied_on, completed_on, reference_date)') }}
            as first_fiscal_year,
        {{ fiscal_year_of('coalesce(completed_on, applied_on, reference_date)') }}
            as last_fiscal_year
    from int_training_enrollments_deduplicated
    union all
    select
        'proposals_proposal' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        {{ fiscal_year_of('submitted_on') }} as first_fiscal_year,
        {{ fiscal_year_of('submitted_on') }} + 1 as last_fiscal_year
    from int_proposals_deduplicated
    union all
    select
        'hr_skill_assessment' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        {{ fiscal_year_of('assessed_on') }} as first_fiscal_year,
        {{ fiscal_year_of('assessed_on') }} as last_fiscal_year
    from int_skill_assessments_deduplicated
    union all
    select
        'hr_dx_leader_certification' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        {{ fiscal_year_of('certified_on') }} as first_fiscal_year,
        {{ fiscal_year_of('lapsed_on') }} as last_fiscal_year
    from int_dx_leader_certifications_deduplicated
    union all
    select
        'hr_external_specialist' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        {{ fiscal_year_of("term_start - interval 31 day") }} as first_fiscal_year,
        {{ fiscal_year_of("term_end + interval 31 day") }} as last_fiscal_year
    from int_external_specialist_contracts_deduplicated
    union all
    select
        'hr_personnel_exchange' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        {{ fiscal_year_of('started_on') }} as first_fiscal_year,
        {{ fiscal_year_of('started_on') }} as last_fiscal_year
    from int_personnel_exchanges_deduplicated
    union all
    select
        'hr_hr_regulation' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        {{ fiscal_year_of('effective_on') }} as first_fiscal_year,
        cast(null as integer) as last_fiscal_year
    from int_regulations_deduplicated
    union all
    select
        'dx_office_dx_project' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        {{ fiscal_year_of('started_on') }} as first_fiscal_year,
        {{ fiscal_year_of('ended_on') }} as last_fiscal_year
    from int_dx_projects_deduplicated
    union all
    select
        'dx_office_bpr_measurement' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        {{ fiscal_year_of('measured_on') }} as first_fiscal_year,
        cast(null as integer) as last_fiscal_year
    from int_bpr_measurements_deduplicated
    union all
    select
        'surveys_staff_survey' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        {{ fiscal_year_of('answered_on') }} as first_fiscal_year,
        {{ fiscal_year_of('answered_on') }} as last_fiscal_year
    from int_staff_survey_responses_deduplicated
    union all
    select
        'surveys_procedure_survey' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        {{ fiscal_year_of('answered_at') }} as first_fiscal_year,
        {{ fiscal_year_of('answered_at') }} as last_fiscal_year
    from int_procedure_survey_responses_deduplicated
),

latest_migration_snapshots as (
    select
        'dx_office_system_migration' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        cast(null as integer) as first_fiscal_year,
        cast(null as integer) as last_fiscal_year
    from int_system_migration_snapshots_deduplicated
    qualify reference_date = max(reference_date) over (partition by ward_code)
),

latest_register_exports as (
    -- A register's latest export states everything it holds up to its date, empty or not:
    -- a count of 0 ("spoken, nothing") was computed from it for every year up to then.
    select
        raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        cast(null as integer) as first_fiscal_year,
        {{ fiscal_year_of('reference_date') }} as last_fiscal_year
    from stg_ops__file_loads
    where
        raw_table in (
            'hr_dx_leader_certification',
            'hr_external_specialist',
            'hr_personnel_exchange',
            'hr_hr_regulation',
            'dx_office_dx_project',
            'dx_office_bpr_measurement',
            'surveys_staff_survey',
            'surveys_procedure_survey'
        )
    qualify reference_date = max(reference_date) over (partition by ward_code, raw_table)
),

catalogue_snapshot_files as (
    -- The load records hold the empty snapshots too ("asked, and got nothing"); the package
    -- rows hold snapshots loaded without the loader (dbt tests).
    select
        ward_code,
        source_file,
        file_sha256,
        reference_date
    from stg_ops__file_loads
    where raw_table = 'opendata_package'
    union
    select
        ward_code,
        source_file,
        file_sha256,
        reference_date
    from int_opendata_packages_deduplicated
),

catalogue_snapshots as (
    -- A ward's latest snapshot of a fiscal year is that year's; its latest overall also
    -- serves the reconstructed years before it.
    select
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        {{ fiscal_year_of('reference_date') }} as fiscal_year,
        reference_date = max(reference_date) over (partition by ward_code) as is_latest
    from catalogue_snapshot_files
    qualify reference_date = max(reference_date) over (
        partition by ward_code, {{ fiscal_year_of('reference_date') }}
    )
),

catalogue_snapshots_used as (
    select
        'opendata_package' as raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        case when is_latest then null else fiscal_year end as first_fiscal_year,
        fiscal_year as last_fiscal_year
    from catalogue_snapshots
),

all_ranges as (
    select * from rosters_used
    union all
    select * from record_ranges
    union all
    select * from latest_migration_snapshots
    union all
    select * from latest_register_exports
    union all
    select * from catalogue_snapshots_used
),

final as (
    -- One row per file and range; a file's records spread over years collapse to their span.
    select
        raw_table,
        ward_code,
        source_file,
        file_sha256,
        reference_date,
        case
            when count(*) filter (where first_fiscal_year is null) > 0 then null
            else min(first_fiscal_year)
        end as first_fiscal_year,
        case
            when count(*) filter (where last_fiscal_year is null) > 0 then null
            else max(last_fiscal_year)
        end as last_fiscal_year
    from all_ranges
    group by raw_table, ward_code, source_file, file_sha256, reference_date
)

select * from final
