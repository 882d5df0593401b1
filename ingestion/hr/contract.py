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
