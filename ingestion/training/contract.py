"""What the training system exports (see README.md beside this file)."""

from ingestion.common.contract import Column, DatasetContract, Kind

COURSE = DatasetContract(
    system="training",
    dataset="course",
    columns=(
        Column("年度", "fiscal_year", Kind.FISCAL_YEAR, required=True),
        Column("コースコード", "course_code", Kind.CODE, required=True),
        Column("コース名", "course_name", Kind.TEXT, required=True),
        Column("研修区分", "category", Kind.CODE, required=True),
        Column("必修区分", "requirement", Kind.CODE, required=True),
        Column("形式", "delivery_format", Kind.CODE),
        Column("時間数", "hours", Kind.DECIMAL),
    ),
    key=("course_code",),
)

SESSION = DatasetContract(
    system="training",
    dataset="session",
    columns=(
        Column("実施番号", "session_id", Kind.CODE, required=True),
        Column("コースコード", "course_code", Kind.CODE, required=True),
        Column("実施日", "session_date", Kind.DATE, required=True),
        Column("定員", "capacity", Kind.INTEGER),
        Column("会場", "venue", Kind.TEXT),
    ),
    key=("session_id",),
)

ENROLLMENT = DatasetContract(
    system="training",
    dataset="enrollment",
    columns=(
        Column("受講番号", "enrollment_id", Kind.CODE, required=True),
        Column("職員番号", "staff_id", Kind.STAFF_ID, required=True),
        Column("コースコード", "course_code", Kind.CODE, required=True),
        Column("実施番号", "session_id", Kind.CODE),
        Column("申込日", "applied_on", Kind.DATE),
        Column("受講状況", "status", Kind.CODE, required=True),
        Column("修了日", "completed_on", Kind.DATE),
    ),
    key=("enrollment_id",),
)
