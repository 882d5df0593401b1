"""What the staff proposal system exports (see README.md beside this file)."""

from ingestion.common.contract import Column, DatasetContract, Kind

PROPOSAL = DatasetContract(
    system="proposals",
    dataset="proposal",
    columns=(
        Column("提案番号", "proposal_id", Kind.CODE, required=True),
        Column("提出日", "submitted_on", Kind.DATE, required=True),
        Column("提案者職員番号", "proposer_ids", Kind.STAFF_ID_LIST, required=True),
        Column("所属コード", "org_code", Kind.CODE),
        Column("提案区分", "category", Kind.CODE),
        Column("件名", "", Kind.DROPPED),
        Column("審査結果", "review_result", Kind.CODE, required=True),
        Column("効果額", "effect_amount_yen", Kind.AMOUNT),
    ),
    key=("proposal_id",),
)
