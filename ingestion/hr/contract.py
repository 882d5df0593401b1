"""What the HR system exports (see README.md beside this file)."""

from ingestion.common.contract import Column, DatasetContract, Kind

STAFF = DatasetContract(
    system="hr",
    dataset="staff",
    columns=(
        Column("職員番号", "staff_id", Kind.STAFF_ID, required=True),
        Column("氏名", "", Kind.DROPPED),
        Column("氏名カナ", "", Kind.DROPPED),
        Column("所属コード", "org_code", Kind.CODE, required=True),
        Column("所属名", "org_name", Kind.TEXT),
        Column("職層", "grade", Kind.CODE, required=True),
        Column("職名", "job_title", Kind.TEXT),
        Column("任用形態", "employment_type", Kind.CODE, required=True),
        Column("採用年月日", "hire_date", Kind.DATE, required=True),
        Column("退職年月日", "retirement_date", Kind.DATE),
    ),
    key=("reference_date", "staff_id"),
    full_snapshot=True,
)

SKILL_ASSESSMENT = DatasetContract(
    system="hr",
    dataset="skill_assessment",
    columns=(
        Column("職員番号", "staff_id", Kind.STAFF_ID, required=True),
        Column("評価年月日", "assessed_on", Kind.DATE, required=True),
        Column("スキル項目コード", "skill_item_code", Kind.CODE, required=True),
        Column("レベル", "skill_level", Kind.INTEGER, required=True),
    ),
    key=("staff_id", "assessed_on", "skill_item_code"),
)

DX_LEADER_CERTIFICATION = DatasetContract(
    system="hr",
    dataset="dx_leader_certification",
    columns=(
        Column("職員番号", "staff_id", Kind.STAFF_ID, required=True),
        Column("認定番号", "certification_id", Kind.CODE, required=True),
        Column("認定年月日", "certified_on", Kind.DATE, required=True),
        Column("失効年月日", "lapsed_on", Kind.DATE),
    ),
    key=("certification_id",),
    may_be_empty=True,
)

EXTERNAL_SPECIALIST = DatasetContract(
    system="hr",
    dataset="external_specialist",
    columns=(
        Column("契約番号", "contract_id", Kind.CODE, required=True),
        Column("職員番号", "staff_id", Kind.STAFF_ID, required=True),
        Column("職名", "role", Kind.CODE, required=True),
        Column("任期開始日", "term_start", Kind.DATE, required=True),
        Column("任期終了日", "term_end", Kind.DATE),
        Column("契約区分", "contract_type", Kind.CODE, required=True),
    ),
    key=("contract_id",),
    may_be_empty=True,
)

PERSONNEL_EXCHANGE = DatasetContract(
    system="hr",
    dataset="personnel_exchange",
    columns=(
        Column("交流番号", "exchange_id", Kind.CODE, required=True),
        Column("職員番号", "staff_id", Kind.STAFF_ID),
        Column("交流先区分", "counterpart_type", Kind.CODE, required=True),
        # The counterpart organisation (a company, a ministry), never a person.
        Column("交流先名", "counterpart_name", Kind.TEXT),
        Column("開始日", "started_on", Kind.DATE, required=True),
        Column("終了日", "ended_on", Kind.DATE),
    ),
    key=("exchange_id",),
    may_be_empty=True,
)

HR_REGULATION = DatasetContract(
    system="hr",
    dataset="hr_regulation",
    columns=(
        Column("規程番号", "regulation_id", Kind.CODE, required=True),
        Column("規程名", "regulation_name", Kind.TEXT),
        Column("規程区分", "regulation_type", Kind.CODE, required=True),
        Column("施行日", "effective_on", Kind.DATE, required=True),
        Column("廃止日", "repealed_on", Kind.DATE),
    ),
    key=("regulation_id",),
    may_be_empty=True,
)
