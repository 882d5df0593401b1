-- 認定DX推進リーダーの数（係長級以上職員に占める割合）: 100 * |population(FY) members holding a DX-leader
-- certification valid at FY end| / |kakaricho_plus(FY)|, in percent. Valid at FY end:
-- certified on or before FY end, and no lapse date (失効年月日) or one after FY end (a
-- certification lapsing on March 31 no longer counts). The numerator counts leaders of any
-- grade, each person once however many certifications they hold; it is also the published
-- count of leaders.
-- No data when FY has no roster snapshot (no population), when kakaricho_plus is empty, or
-- when the certification register has not spoken for FY (no export dated on or after FY
-- start, empty ones included): then the numerator is null too.
with

int_fiscal_year_spine as (
    select * from {{ ref('int_fiscal_year_spine') }}
),

int_source_coverage as (
    select * from {{ ref('int_source_coverage') }}
),

int_population_members_by_fiscal_year as (
    select * from {{ ref('int_population_members_by_fiscal_year') }}
),

int_dx_leader_certifications_deduplicated as (
    select * from {{ ref('int_dx_leader_certifications_deduplicated') }}
),

certification_coverage as (
    select
        ward_code,
        last_reference_date
    from int_source_coverage
    where raw_table = 'hr_dx_leader_certification'
),

fiscal_years as (
    select
        int_fiscal_year_spine.ward_code,
        int_fiscal_year_spine.fiscal_year,
        {{ has_spoken_for_fiscal_year(
            'certification_coverage.last_reference_date', 'int_fiscal_year_spine.fiscal_year'
        ) }} as certification_has_spoken
    from int_fiscal_year_spine
    left join certification_coverage
        on int_fiscal_year_spine.ward_code = certification_coverage.ward_code
),

kakaricho_plus_sizes as (
    select
        ward_code,
        fiscal_year,
        count(*) filter (where is_kakaricho_plus) as kakaricho_plus_count
    from int_population_members_by_fiscal_year
    group by ward_code, fiscal_year
),

certified_member_counts as (
    select
        int_population_members_by_fiscal_year.ward_code,
        int_population_members_by_fiscal_year.fiscal_year,
        count(distinct int_population_members_by_fiscal_year.staff_id) as certified_member_count
    from int_population_members_by_fiscal_year
    inner join int_dx_leader_certifications_deduplicated
        on
            int_population_members_by_fiscal_year.ward_code
            = int_dx_leader_certifications_deduplicated.ward_code
            and int_population_members_by_fiscal_year.staff_id
            = int_dx_leader_certifications_deduplicated.staff_id
    where
        int_dx_leader_certifications_deduplicated.certified_on
        <= {{ fiscal_year_end_date('int_population_members_by_fiscal_year.fiscal_year') }}
        and (
            int_dx_leader_certifications_deduplicated.lapsed_on is null
            or int_dx_leader_certifications_deduplicated.lapsed_on
            > {{ fiscal_year_end_date('int_population_members_by_fiscal_year.fiscal_year') }}
        )
    group by
        int_population_members_by_fiscal_year.ward_code,
        int_population_members_by_fiscal_year.fiscal_year
),

counts_where_measured as (
    select
        fiscal_years.ward_code,
        fiscal_years.fiscal_year,
        kakaricho_plus_sizes.kakaricho_plus_count,
        case
            when
                fiscal_years.certification_has_spoken
                and kakaricho_plus_sizes.ward_code is not null
                then coalesce(certified_member_counts.certified_member_count, 0)
        end as certified_member_count
    from fiscal_years
    left join kakaricho_plus_sizes
        on
            fiscal_years.ward_code = kakaricho_plus_sizes.ward_code
            and fiscal_years.fiscal_year = kakaricho_plus_sizes.fiscal_year
    left join certified_member_counts
        on
            fiscal_years.ward_code = certified_member_counts.ward_code
            and fiscal_years.fiscal_year = certified_member_counts.fiscal_year
),

final as (
    select
        ward_code,
        fiscal_year,
        certified_member_count as numerator,
        kakaricho_plus_count as denominator,
        case
            when kakaricho_plus_count > 0
                then 100.0 * certified_member_count / kakaricho_plus_count
        end as value
    from counts_where_measured
)

select * from final
