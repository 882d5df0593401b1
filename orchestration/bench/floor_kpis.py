"""The floor's KPI computation: every indicator of indicators.yaml per ward x fiscal year, in
plain SQL over the floor's own tables, written from the definitions (not from the dbt models).

Inputs (created by `orchestration.bench.floor`): `files` (every export read, empty ones
included), one table per dataset holding the rows that break no rule, `grade_levels` and
`packages` (the catalogue snapshot, taken on `snapshot_date`). Output: `kpi_values`
(ward_code, fiscal_year, indicator_id, value), value null for no data.

Conventions: a record's current version is its row in the export with the latest reference
date; a dataset has spoken for a fiscal year when it sent an export dated on or after the
year's first day; population(FY) is the year's latest roster snapshot, staff in service then.
"""

from __future__ import annotations

import duckdb

from ingestion.registry import FILE_CONTRACTS

# Datasets whose records are keyed (a later export's version replaces the earlier one).
KEYED = {
    table: contract.key for table, contract in FILE_CONTRACTS.items() if not contract.full_snapshot
}

_PREPARE = """
create or replace macro fy(day) as
    cast(year(day) - case when month(day) < 4 then 1 else 0 end as integer);

create or replace table coverage as
select raw_table, ward_code, max(reference_date) as last_reference_date
from files group by all;

create or replace table fy_grid as
with bounds as (
    select min(fy(reference_date)) as first_year,
        greatest(max(fy(reference_date)), fy(cast($snapshot_date as date))) as last_year
    from files
),
years as (select unnest(generate_series(first_year, last_year)) as fiscal_year from bounds)
select wards.ward_code, cast(years.fiscal_year as integer) as fiscal_year,
    make_date(cast(years.fiscal_year as integer), 4, 1) as fy_start,
    make_date(cast(years.fiscal_year as integer) + 1, 3, 31) as fy_end,
    {spoken}
from (select distinct ward_code from files) as wards
cross join years
left join coverage on coverage.ward_code = wards.ward_code
group by wards.ward_code, years.fiscal_year;

create or replace table population as
with snapshots as (
    select ward_code, fy(reference_date) as fiscal_year, max(reference_date) as snapshot_date
    from hr_staff group by all
)
select snapshots.ward_code, snapshots.fiscal_year, hr_staff.staff_id,
    bool_or(coalesce(grade_levels.is_kakaricho_plus, false)) as is_kakaricho_plus
from snapshots
join hr_staff
    on hr_staff.ward_code = snapshots.ward_code
    and hr_staff.reference_date = snapshots.snapshot_date
left join grade_levels on grade_levels.grade = hr_staff.grade
where hr_staff.retirement_date is null or hr_staff.retirement_date > snapshots.snapshot_date
group by all;

create or replace table population_sizes as
select ward_code, fiscal_year, count(*) as members,
    count(*) filter (where is_kakaricho_plus) as kakaricho_plus
from population group by all;
"""

# One select per indicator, each giving (ward_code, fiscal_year, value) over fy_grid `g`.
_INDICATORS: dict[str, str] = {
    "m1_kgi_staff_digital_satisfaction": """
        with answers as (
            select ward_code, fy(answered_on) as fiscal_year, count(satisfaction) as scored,
                count(*) filter (where satisfaction >= 4) as satisfied
            from latest_surveys_staff_survey group by all
        )
        select g.ward_code, g.fiscal_year,
            case when g.spoken_surveys_staff_survey and a.scored > 0
                then 100.0 * a.satisfied / a.scored end
        from fy_grid g left join answers a using (ward_code, fiscal_year)
    """,
    "m1_kgi_routine_task_time_reduction": """
        with afters as (
            select ward_code, task_code, fy(measured_on) as fiscal_year, measured_on,
                minutes_per_case * annual_cases as minutes
            from latest_dx_office_bpr_measurement where measurement_type = '改善後'
            qualify row_number() over (
                partition by ward_code, task_code, fy(measured_on) order by measured_on desc
            ) = 1
        ),
        pairs as (
            select a.ward_code, a.fiscal_year, a.minutes as after_minutes,
                b.minutes_per_case * b.annual_cases as before_minutes
            from afters a
            join latest_dx_office_bpr_measurement b
                on b.ward_code = a.ward_code and b.task_code = a.task_code
                and b.measurement_type = '改善前' and b.measured_on < a.measured_on
            qualify row_number() over (
                partition by a.ward_code, a.task_code, a.fiscal_year order by b.measured_on desc
            ) = 1
        ),
        sums as (
            select ward_code, fiscal_year,
                cast(sum(cast(after_minutes as decimal(38, 6))) as double) as after_minutes,
                cast(sum(cast(before_minutes as decimal(38, 6))) as double) as before_minutes
            from pairs group by all
        )
        select g.ward_code, g.fiscal_year,
            case when g.spoken_dx_office_bpr_measurement and s.before_minutes > 0
                then 100.0 * (1 - s.after_minutes / s.before_minutes) end
        from fy_grid g left join sums s using (ward_code, fiscal_year)
    """,
    "m1_ksi_basic_training_completion": """
        with mandatory as (
            select ward_code, fiscal_year, course_code from latest_training_course
            where category = 'デジタル基礎' and requirement = '必修'
        ),
        mandatory_counts as (
            select ward_code, fiscal_year, count(*) as courses from mandatory group by all
        ),
        completions as (
            select e.ward_code, m.fiscal_year, e.staff_id,
                count(distinct e.course_code) as courses
            from latest_training_enrollment e
            join mandatory m on m.ward_code = e.ward_code and m.course_code = e.course_code
            where e.status = '修了' and fy(e.completed_on) = m.fiscal_year
            group by all
        ),
        completers as (
            select p.ward_code, p.fiscal_year,
                count(*) filter (where coalesce(c.courses, 0) = m.courses) as completers
            from population p
            join mandatory_counts m using (ward_code, fiscal_year)
            left join completions c using (ward_code, fiscal_year, staff_id)
            group by all
        )
        select g.ward_code, g.fiscal_year,
            case when p.members > 0 then 100.0 * c.completers / p.members end
        from fy_grid g
        left join population_sizes p using (ward_code, fiscal_year)
        left join completers c using (ward_code, fiscal_year)
    """,
    "m1_kpi_proposal_growth": """
        with counts as (
            select ward_code, fy(submitted_on) as fiscal_year, count(*) as proposals
            from latest_proposals_proposal group by all
        )
        select g.ward_code, g.fiscal_year,
            case when c.proposals > 0 and p.proposals > 0
                then 100.0 * (c.proposals / p.proposals - 1) end
        from fy_grid g
        left join counts c using (ward_code, fiscal_year)
        left join counts p on p.ward_code = g.ward_code and p.fiscal_year = g.fiscal_year - 1
    """,
    "m1_kpi_basic_course_count": """
        with counts as (
            select ward_code, fiscal_year,
                count(distinct course_code) filter (where category = 'デジタル基礎') as courses
            from latest_training_course group by all
        )
        select g.ward_code, g.fiscal_year, c.courses
        from fy_grid g left join counts c using (ward_code, fiscal_year)
    """,
    "m1_kpi_tool_training_sessions": """
        with counts as (
            select s.ward_code, fy(s.session_date) as fiscal_year,
                count(distinct s.session_id) filter (where c.category = 'ツール活用') as sessions
            from latest_training_session s
            left join latest_training_course c
                on c.ward_code = s.ward_code and c.course_code = s.course_code
            group by all
        )
        select g.ward_code, g.fiscal_year, c.sessions
        from fy_grid g left join counts c using (ward_code, fiscal_year)
    """,
    "m2_kgi_dept_led_dx_projects": """
        with counts as (
            select g.ward_code, g.fiscal_year, count(distinct p.project_id) as projects
            from fy_grid g join latest_dx_office_dx_project p on p.ward_code = g.ward_code
            where p.project_status <> '中止' and p.started_on <= g.fy_end
                and (p.ended_on is null or p.ended_on >= g.fy_start)
            group by all
        )
        select g.ward_code, g.fiscal_year,
            case when g.spoken_dx_office_dx_project then coalesce(c.projects, 0) end
        from fy_grid g left join counts c using (ward_code, fiscal_year)
    """,
    "m2_kgi_online_procedure_satisfaction": """
        with answers as (
            select ward_code, fy(cast(answered_at as date)) as fiscal_year,
                count(satisfaction) as scored,
                count(*) filter (where satisfaction >= 4) as satisfied
            from latest_surveys_procedure_survey group by all
        )
        select g.ward_code, g.fiscal_year,
            case when g.spoken_surveys_procedure_survey and a.scored > 0
                then 100.0 * a.satisfied / a.scored end
        from fy_grid g left join answers a using (ward_code, fiscal_year)
    """,
    "m2_ksi_certified_dx_leader_ratio": """
        with holders as (
            select p.ward_code, p.fiscal_year, count(distinct p.staff_id) as holders
            from population p
            join latest_hr_dx_leader_certification c
                on c.ward_code = p.ward_code and c.staff_id = p.staff_id
            where c.certified_on <= make_date(p.fiscal_year + 1, 3, 31)
                and (c.lapsed_on is null or c.lapsed_on > make_date(p.fiscal_year + 1, 3, 31))
            group by all
        )
        select g.ward_code, g.fiscal_year,
            case when g.spoken_hr_dx_leader_certification and p.kakaricho_plus > 0
                then 100.0 * coalesce(h.holders, 0) / p.kakaricho_plus end
        from fy_grid g
        left join population_sizes p using (ward_code, fiscal_year)
        left join holders h using (ward_code, fiscal_year)
    """,
    "m2_kpi_dx_leader_cost_savings": """
        with led_by_leaders as (
            select distinct p.ward_code, p.project_id, fy(p.ended_on) as fiscal_year,
                coalesce(p.annual_savings_yen, 0) as savings
            from latest_dx_office_dx_project p
            join latest_hr_dx_leader_certification c
                on c.ward_code = p.ward_code and c.staff_id = p.leader_staff_id
            where p.project_status = '完了' and p.ended_on is not null
                and c.certified_on <= p.ended_on
                and (c.lapsed_on is null or c.lapsed_on > p.ended_on)
        ),
        sums as (select ward_code, fiscal_year, sum(savings) as savings
            from led_by_leaders group by all)
        select g.ward_code, g.fiscal_year,
            case when g.spoken_dx_office_dx_project and g.spoken_hr_dx_leader_certification
                then coalesce(s.savings, 0) end
        from fy_grid g left join sums s using (ward_code, fiscal_year)
    """,
    "m2_kpi_dx_leader_program_graduates": """
        with activity as (
            select ward_code, fy(applied_on) as fiscal_year from latest_training_enrollment
            where applied_on is not null
            union
            select ward_code, fy(completed_on) from latest_training_enrollment
            where completed_on is not null
        ),
        graduates as (
            select e.ward_code, fy(e.completed_on) as fiscal_year,
                count(distinct e.staff_id) as graduates
            from latest_training_enrollment e
            join latest_training_course c
                on c.ward_code = e.ward_code and c.course_code = e.course_code
            where e.status = '修了' and e.completed_on is not null
                and c.category = 'DX推進リーダー育成'
            group by all
        )
        select g.ward_code, g.fiscal_year,
            case when a.ward_code is not null then coalesce(n.graduates, 0) end
        from fy_grid g
        left join activity a using (ward_code, fiscal_year)
        left join graduates n using (ward_code, fiscal_year)
    """,
    "m2_kpi_skill_map_registration": """
        with assessed as (
            select distinct ward_code, fy(assessed_on) as fiscal_year, staff_id
            from latest_hr_skill_assessment
        ),
        registered as (
            select p.ward_code, p.fiscal_year, count(*) as registered
            from population p join assessed a using (ward_code, fiscal_year, staff_id)
            group by all
        )
        select g.ward_code, g.fiscal_year,
            case when g.spoken_hr_skill_assessment and p.members > 0
                then 100.0 * coalesce(r.registered, 0) / p.members end
        from fy_grid g
        left join population_sizes p using (ward_code, fiscal_year)
        left join registered r using (ward_code, fiscal_year)
    """,
    "m3_kgi_external_specialist_retention": """
        with ending as (
            select ward_code, contract_id, staff_id, term_end, fy(term_end) as fiscal_year
            from latest_hr_external_specialist where term_end is not null
        ),
        renewed as (
            select distinct e.ward_code, e.contract_id
            from ending e
            join latest_hr_external_specialist r
                on r.ward_code = e.ward_code and r.staff_id = e.staff_id
            where r.contract_type = '更新' and r.term_start > e.term_end
                and r.term_start <= e.term_end + 31
        ),
        counts as (
            select e.ward_code, e.fiscal_year, count(*) as ending,
                count(r.contract_id) as renewed
            from ending e left join renewed r using (ward_code, contract_id)
            group by all
        )
        select g.ward_code, g.fiscal_year,
            case when g.spoken_hr_external_specialist and c.ending > 0
                then 100.0 * c.renewed / c.ending end
        from fy_grid g left join counts c using (ward_code, fiscal_year)
    """,
    "m3_kgi_standard_system_migration": """
        with latest as (
            select * from dx_office_system_migration
            qualify reference_date = max(reference_date) over (partition by ward_code)
        ),
        counts as (
            select g.ward_code, g.fiscal_year, count(distinct m.system_code) as migrated
            from fy_grid g join latest m on m.ward_code = g.ward_code
            where m.migration_status = '移行完了' and m.migrated_on <= g.fy_end
            group by all
        )
        select g.ward_code, g.fiscal_year,
            case when g.spoken_dx_office_system_migration
                then 100.0 * coalesce(c.migrated, 0) / 20 end
        from fy_grid g left join counts c using (ward_code, fiscal_year)
    """,
    "m3_ksi_cio_advisor_count": """
        with counts as (
            select g.ward_code, g.fiscal_year, count(distinct c.contract_id) as advisors
            from fy_grid g join latest_hr_external_specialist c on c.ward_code = g.ward_code
            where c.role = 'CIO補佐官' and c.term_start <= g.fy_end
                and (c.term_end is null or c.term_end >= g.fy_end)
            group by all
        )
        select g.ward_code, g.fiscal_year,
            case when g.spoken_hr_external_specialist then coalesce(c.advisors, 0) end
        from fy_grid g left join counts c using (ward_code, fiscal_year)
    """,
    "m3_ksi_digital_career_path": """
        with in_force as (
            select distinct g.ward_code, g.fiscal_year
            from fy_grid g join latest_hr_hr_regulation r on r.ward_code = g.ward_code
            where r.regulation_type = 'デジタル専門職キャリアパス' and r.effective_on <= g.fy_end
                and (r.repealed_on is null or r.repealed_on > g.fy_end)
        )
        select g.ward_code, g.fiscal_year,
            case when g.spoken_hr_hr_regulation then
                case when f.ward_code is null then 0 else 1 end end
        from fy_grid g left join in_force f using (ward_code, fiscal_year)
    """,
    "m3_kpi_external_advice_improvements": """
        with counts as (
            select ward_code, fy(ended_on) as fiscal_year, count(distinct project_id) as projects
            from latest_dx_office_dx_project
            where project_status = '完了' and external_advice = '有' and ended_on is not null
            group by all
        )
        select g.ward_code, g.fiscal_year,
            case when g.spoken_dx_office_dx_project then coalesce(c.projects, 0) end
        from fy_grid g left join counts c using (ward_code, fiscal_year)
    """,
    "m3_kpi_external_specialist_hires": """
        with counts as (
            select ward_code, fy(term_start) as fiscal_year, count(distinct contract_id) as hires
            from latest_hr_external_specialist where contract_type = '新規'
            group by all
        )
        select g.ward_code, g.fiscal_year,
            case when g.spoken_hr_external_specialist then coalesce(c.hires, 0) end
        from fy_grid g left join counts c using (ward_code, fiscal_year)
    """,
    "m3_kpi_private_sector_exchanges": """
        with counts as (
            select ward_code, fy(started_on) as fiscal_year,
                count(distinct exchange_id) as exchanges
            from latest_hr_personnel_exchange where counterpart_type = '民間企業'
            group by all
        )
        select g.ward_code, g.fiscal_year,
            case when g.spoken_hr_personnel_exchange then coalesce(c.exchanges, 0) end
        from fy_grid g left join counts c using (ward_code, fiscal_year)
    """,
    # The snapshot's own year counts what it lists; earlier years are read back from it:
    # packages created (naive UTC) before the year's end in Tokyo (FY end 15:00 UTC).
    "ctx_open_datasets": """
        with published as (
            select substr(organization, 2) as ward_code, metadata_created from packages
            where state = 'active' and not is_private
        ),
        counts as (
            select g.ward_code, g.fiscal_year,
                count(p.ward_code) filter (
                    where g.fiscal_year = fy(cast($snapshot_date as date))
                    or p.metadata_created < cast(g.fy_end as timestamp) + interval 15 hour
                ) as datasets
            from fy_grid g left join published p using (ward_code)
            group by all
        )
        select ward_code, fiscal_year,
            case when fiscal_year <= fy(cast($snapshot_date as date)) then datasets end
        from counts
    """,
}

INDICATOR_IDS: tuple[str, ...] = tuple(_INDICATORS)


def _spoken_columns() -> str:
    return ",\n    ".join(
        f"coalesce(max(coverage.last_reference_date) filter (where coverage.raw_table = "
        f"'{table}') >= make_date(cast(years.fiscal_year as integer), 4, 1), false) "
        f"as spoken_{table}"
        for table in FILE_CONTRACTS
    )


def _latest_versions_sql(table: str, key: tuple[str, ...]) -> str:
    """Each record's current version: its row in the export with the latest reference date
    (one file per reference date, and a key is unique within a file)."""
    partition = ", ".join(("ward_code", *key))
    return (
        f"create or replace table latest_{table} as select * from {table} qualify "
        f"reference_date = max(reference_date) over (partition by {partition})"
    )


def compute_kpis(con: duckdb.DuckDBPyConnection, snapshot_date: str) -> None:
    """Compute every indicator into `kpi_values` from the floor's tables.

    Args:
        con: The floor's database, with `files`, the dataset tables, `grade_levels` and
            `packages`.
        snapshot_date: The catalogue snapshot's JST date (YYYY-MM-DD).
    """
    for table, key in KEYED.items():
        con.execute(_latest_versions_sql(table, key))
    for statement in _PREPARE.format(spoken=_spoken_columns()).split(";"):
        if statement.strip():
            con.execute(statement, {"snapshot_date": snapshot_date} if "$" in statement else None)
    selects = [
        f"select ward_code, fiscal_year, '{indicator}' as indicator_id, "
        f"cast(value as double) as value from ({sql.strip()}) as v(ward_code, fiscal_year, value)"
        for indicator, sql in _INDICATORS.items()
    ]
    con.execute(
        "create or replace table kpi_values as " + "\nunion all\n".join(selects),
        {"snapshot_date": snapshot_date},
    )
