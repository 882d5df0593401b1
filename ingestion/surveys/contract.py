"""What the survey tools export (see README.md beside this file)."""

from ingestion.common.contract import Column, DatasetContract, Kind

STAFF_SURVEY = DatasetContract(
    system="surveys",
    dataset="staff_survey",
    columns=(
        Column("回答ID", "response_id", Kind.CODE, required=True),
        Column("回答日", "answered_on", Kind.DATE, required=True),
        Column("所属部コード", "department_code", Kind.CODE),
        Column("職層区分", "grade_group", Kind.CODE),
        # Blank: the question was not answered (the response still counts as received).
        Column("デジタル業務環境満足度", "satisfaction", Kind.INTEGER),
        Column("自由記述", "", Kind.DROPPED),
    ),
    key=("response_id",),
    may_be_empty=True,
)

PROCEDURE_SURVEY = DatasetContract(
    system="surveys",
    dataset="procedure_survey",
    columns=(
        Column("回答ID", "response_id", Kind.CODE, required=True),
        Column("手続コード", "procedure_code", Kind.CODE),
        Column("手続名", "procedure_name", Kind.TEXT),
        Column("回答日時", "answered_at", Kind.TIMESTAMP, required=True),
        Column("満足度", "satisfaction", Kind.INTEGER),
    ),
    key=("response_id",),
    may_be_empty=True,
)
