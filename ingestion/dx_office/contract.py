"""What the DX office's registers export (see README.md beside this file)."""

from ingestion.common.contract import Column, DatasetContract, Kind

DX_PROJECT = DatasetContract(
    system="dx_office",
    dataset="dx_project",
    columns=(
        Column("事業番号", "project_id", Kind.CODE, required=True),
        # 事業名 may name people (「〇〇係長によるRPA導入」): never read.
        Column("事業名", "", Kind.DROPPED),
        Column("所管所属コード", "org_code", Kind.CODE),
        Column("リーダー職員番号", "leader_staff_id", Kind.STAFF_ID),
        Column("開始日", "started_on", Kind.DATE, required=True),
        Column("終了日", "ended_on", Kind.DATE),
        Column("状態", "project_status", Kind.CODE, required=True),
        Column("外部人材助言", "external_advice", Kind.CODE),
        Column("削減効果額(年額)", "annual_savings_yen", Kind.AMOUNT),
    ),
    key=("project_id",),
    may_be_empty=True,
)

BPR_MEASUREMENT = DatasetContract(
    system="dx_office",
    dataset="bpr_measurement",
    columns=(
        Column("業務コード", "task_code", Kind.CODE, required=True),
        Column("業務名", "task_name", Kind.TEXT),
        Column("計測区分", "measurement_type", Kind.CODE, required=True),
        Column("計測日", "measured_on", Kind.DATE, required=True),
        Column("処理時間(分/件)", "minutes_per_case", Kind.DECIMAL, required=True),
        Column("年間件数", "annual_cases", Kind.INTEGER, required=True),
    ),
    key=("task_code", "measurement_type", "measured_on"),
    may_be_empty=True,
)

SYSTEM_MIGRATION = DatasetContract(
    system="dx_office",
    dataset="system_migration",
    columns=(
        Column("業務番号", "system_code", Kind.CODE, required=True),
        Column("業務名", "system_name", Kind.TEXT),
        Column("移行状態", "migration_status", Kind.CODE, required=True),
        Column("移行完了日", "migrated_on", Kind.DATE),
    ),
    key=("reference_date", "system_code"),
    full_snapshot=True,
)
