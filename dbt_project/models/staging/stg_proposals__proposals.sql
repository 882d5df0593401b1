-- The proposal's 件名 (free text that may hold personal data) never reaches the raw layer.
with

source_proposals_proposal as (
    select * from {{ source('raw', 'proposals_proposal') }}
),

final as (
    select
        cast(ward_code as varchar) as ward_code,
        cast(reference_date as date) as reference_date,
        cast(proposal_id as varchar) as proposal_id,
        cast(submitted_on as date) as submitted_on,
        cast(proposer_ids as varchar) as proposer_ids,
        cast(proposer_count as integer) as proposer_count,
        cast(org_code as varchar) as org_code,
        cast(category as varchar) as proposal_category,
        cast(review_result as varchar) as review_result,
        cast(effect_amount_yen as bigint) as effect_amount_yen,
        cast(source_file as varchar) as source_file,
        cast(file_sha256 as varchar) as file_sha256,
        cast(source_row as integer) as source_row,
        cast(loaded_at as timestamp) as loaded_at
    from source_proposals_proposal
)

select * from final
