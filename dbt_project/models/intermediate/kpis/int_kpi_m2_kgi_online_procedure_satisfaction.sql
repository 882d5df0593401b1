-- 住民向けオンライン手続きの利用満足度: among the online-procedure user-survey (利用者アンケート)
-- responses answered in FY with a satisfaction score, the share satisfied (4 or 5 on 1-5), in
-- percent. answered_at is JST wall time: its date decides the FY (2026-03-31 23:30 is FY2025).
-- No data when the survey has not spoken for FY or FY has no scored answer. The formula:
-- macros/satisfied_share.sql.
{{ satisfied_share(
    'int_procedure_survey_responses_deduplicated',
    'surveys_procedure_survey',
    'cast(answered_at as date)'
) }}
