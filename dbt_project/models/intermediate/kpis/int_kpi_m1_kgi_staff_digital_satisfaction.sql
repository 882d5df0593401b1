-- 職員のデジタル業務環境満足度: among the staff-survey (職員意識調査) responses answered in FY that
-- score the digital-work-environment question, the share satisfied (4 or 5 on 1-5), in percent.
-- numerator = satisfied answers, denominator = answers with a score. No data when the survey
-- has not spoken for FY (no export dated on or after FY start, empty ones included) or when
-- FY has no scored answer (a rate over nothing). The formula: macros/satisfied_share.sql.
{{ satisfied_share(
    'int_staff_survey_responses_deduplicated', 'surveys_staff_survey', 'answered_on'
) }}
