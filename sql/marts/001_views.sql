-- Analyst views: the stable, documented interface of the warehouse.
-- Analysts get SELECT on these and nothing else (sql/roles/).
--
-- Every value a view computes (sums, differences, rates) is ROUNDed to its
-- stated scale: 2 decimals for values and rates, 4 for coverage. On
-- PostgreSQL the inputs are NUMERIC(20, 2) and this only states the scale; on
-- SQLite, which stores them as binary floats, it makes a sum like
-- 0.1 + 0.2 the float nearest 0.3 instead of 0.30000000000000004, which
-- `huizong sql` then prints as the decimal 0.3.

DROP VIEW IF EXISTS v_notice_vs_return;
DROP VIEW IF EXISTS v_annual_values;
DROP VIEW IF EXISTS v_completeness;
DROP VIEW IF EXISTS v_completeness_detail;
DROP VIEW IF EXISTS v_consolidated;
DROP VIEW IF EXISTS consolidation_base;
DROP VIEW IF EXISTS v_indicator_values;

-- One row per reported value, every version, every source.
CREATE VIEW v_indicator_values AS
SELECT
    f.unit_code,
    u.name AS unit_name,
    u.level,
    u.parent_code,
    f.form,
    f.indicator_code,
    i.name AS indicator_name,
    i.unit,
    f.period,
    f.value_current AS value,
    f.value_ytd,
    f.value_last_year,
    f.source,
    f.version,
    f.is_latest AS is_latest_version,
    f.qualifier,
    f.has_warnings,
    f.provenance
FROM fact_indicator_value AS f
INNER JOIN dim_org_unit AS u ON f.unit_code = u.unit_code AND u.valid_to IS NULL
INNER JOIN dim_indicator AS i ON f.form = i.form AND f.indicator_code = i.indicator_code;

-- Internal (no v_ prefix, so not granted to analysts): per unit, indicator
-- and period, the unit's own latest figure and the sum over its direct
-- children. A view rather than a CTE because v_consolidated reads it twice:
-- PostgreSQL inlines views, so a filter on period reaches the fact scans
-- instead of aggregating every period first.
CREATE VIEW consolidation_base AS
WITH reported AS (
    SELECT
        f.unit_code,
        f.form,
        f.indicator_code,
        f.period,
        f.value_current AS own_value,
        NULL AS sum_children,
        0 AS children_reported
    FROM fact_indicator_value AS f
    WHERE f.source = 'return' AND f.is_latest = TRUE
    UNION ALL
    SELECT
        u.parent_code AS unit_code,
        f.form,
        f.indicator_code,
        f.period,
        NULL AS own_value,
        f.value_current AS sum_children,
        CASE WHEN f.value_current IS NULL THEN 0 ELSE 1 END AS children_reported
    FROM fact_indicator_value AS f
    INNER JOIN dim_org_unit AS u ON f.unit_code = u.unit_code AND u.valid_to IS NULL
    WHERE f.source = 'return' AND f.is_latest = TRUE AND u.parent_code IS NOT NULL
)

SELECT
    unit_code,
    form,
    indicator_code,
    period,
    MAX(own_value) AS own_value,
    ROUND(SUM(sum_children), 2) AS sum_children,
    SUM(children_reported) AS children_reported
FROM reported
GROUP BY unit_code, form, indicator_code, period;

-- Each unit's own figure beside the sum of its direct children, for every
-- additive indicator, plus derived rates computed from the summed parts.
CREATE VIEW v_consolidated AS
WITH rate_parts AS (
    SELECT
        b.unit_code,
        b.form,
        d.indicator_code,
        b.period,
        d.scale,
        MAX(CASE WHEN b.indicator_code = d.numerator THEN b.own_value END) AS own_num,
        MAX(CASE WHEN b.indicator_code = d.denominator THEN b.own_value END) AS own_den,
        MAX(CASE WHEN b.indicator_code = d.numerator THEN b.sum_children END) AS sum_num,
        MAX(CASE WHEN b.indicator_code = d.denominator THEN b.sum_children END) AS sum_den,
        MAX(CASE WHEN b.indicator_code = d.numerator THEN b.children_reported END)
            AS children_reported
    FROM consolidation_base AS b
    INNER JOIN dim_indicator AS d
        ON
            b.form = d.form AND d.temporal = 'derived'
            AND (b.indicator_code = d.numerator OR b.indicator_code = d.denominator)
    GROUP BY b.unit_code, b.form, d.indicator_code, b.period, d.scale
    HAVING COUNT(*) = 2
),

figures AS (
    SELECT
        b.unit_code,
        b.form,
        b.indicator_code,
        b.period,
        b.own_value,
        b.sum_children,
        b.children_reported
    FROM consolidation_base AS b
    UNION ALL
    SELECT
        unit_code,
        form,
        indicator_code,
        period,
        CASE WHEN own_den > 0 THEN ROUND(scale * own_num * 1.0 / own_den, 2) END AS own_value,
        CASE WHEN sum_den > 0 THEN ROUND(scale * sum_num * 1.0 / sum_den, 2) END AS sum_children,
        children_reported
    FROM rate_parts
),

child_counts AS (
    SELECT
        parent_code,
        COUNT(*) AS expected
    FROM dim_org_unit
    WHERE valid_to IS NULL AND parent_code IS NOT NULL
    GROUP BY parent_code
),

counted AS (
    SELECT
        x.unit_code,
        u.name AS unit_name,
        u.level,
        u.parent_code,
        x.form,
        x.indicator_code,
        i.name AS indicator_name,
        i.unit,
        i.temporal,
        x.period,
        x.own_value,
        x.sum_children,
        x.children_reported,
        COALESCE(kids.expected, 0) AS children_expected
    FROM figures AS x
    INNER JOIN dim_org_unit AS u ON x.unit_code = u.unit_code AND u.valid_to IS NULL
    INNER JOIN dim_indicator AS i ON x.form = i.form AND x.indicator_code = i.indicator_code
    -- Counted once per parent and joined: a per-row subquery probed the
    -- hierarchy 176,000 times for one province-year (1.5 s of 4).
    LEFT JOIN child_counts AS kids ON x.unit_code = kids.parent_code
    WHERE i.additive = TRUE OR i.temporal = 'derived'
)

SELECT
    unit_code,
    unit_name,
    level,
    parent_code,
    form,
    indicator_code,
    indicator_name,
    unit,
    temporal,
    period,
    own_value,
    sum_children,
    ROUND(own_value - sum_children, 2) AS diff,
    children_reported,
    children_expected,
    CASE
        WHEN children_expected > 0 THEN ROUND(children_reported * 1.0 / children_expected, 4)
    END AS coverage
FROM counted;

-- Every expected child for every parent, form and period that anyone has
-- reported: whether and when it reported, against which due date.
CREATE VIEW v_completeness_detail AS
WITH reported_periods AS (
    SELECT DISTINCT
        form,
        period
    FROM return_submission
),

first_receipt AS (
    SELECT
        unit_code,
        form,
        period,
        MIN(received_at) AS first_received_at,
        MIN(submitted_on) AS first_submitted_on
    FROM return_submission
    GROUP BY unit_code, form, period
)

SELECT
    child.parent_code,
    parent.name AS parent_name,
    child.unit_code,
    child.name AS unit_name,
    rp.form,
    rp.period,
    COALESCE(rd.due_date, p.due_date) AS due_date,
    CASE WHEN rd.due_date IS NULL THEN 'default' ELSE 'notice' END AS due_date_source,
    rd.notice_id AS due_date_notice_id,
    fr.first_received_at,
    CASE
        WHEN fr.first_received_at IS NULL THEN 'missing'
        WHEN fr.first_submitted_on <= COALESCE(rd.due_date, p.due_date) THEN 'on_time'
        ELSE 'late'
    END AS status
FROM dim_org_unit AS child
INNER JOIN dim_org_unit AS parent
    ON child.parent_code = parent.unit_code AND parent.valid_to IS NULL
CROSS JOIN reported_periods AS rp
INNER JOIN dim_period AS p ON rp.period = p.period
LEFT JOIN reporting_deadline AS rd
    ON child.parent_code = rd.parent_code AND rp.form = rd.form AND rp.period = rd.period
LEFT JOIN first_receipt AS fr
    ON child.unit_code = fr.unit_code AND rp.form = fr.form AND rp.period = fr.period
WHERE
    child.valid_to IS NULL
    AND child.parent_code IN (
        SELECT c.parent_code
        FROM dim_org_unit AS c
        INNER JOIN return_submission AS s ON c.unit_code = s.unit_code
        UNION
        SELECT s.unit_code FROM return_submission AS s
    );

-- Expected vs received returns per parent, form and period.
CREATE VIEW v_completeness AS
SELECT
    parent_code,
    parent_name,
    form,
    period,
    MIN(due_date) AS due_date,
    COUNT(*) AS expected,
    SUM(CASE WHEN status <> 'missing' THEN 1 ELSE 0 END) AS received,
    SUM(CASE WHEN status = 'on_time' THEN 1 ELSE 0 END) AS on_time,
    SUM(CASE WHEN status = 'late' THEN 1 ELSE 0 END) AS late,
    SUM(CASE WHEN status = 'missing' THEN 1 ELSE 0 END) AS missing
FROM v_completeness_detail
GROUP BY parent_code, parent_name, form, period;

-- Quarterly figures rolled up to the year: a flow is the sum of its four
-- quarters (NULL until all four are reported), a stock is its Q4 value.
-- Own figures and sums of children roll up separately. The year is taken
-- from the period's text (2024Q3 → 2024) so that a filter on period or year
-- reaches the fact scans.
CREATE VIEW v_annual_values AS
WITH quarterly AS (
    SELECT
        b.unit_code,
        b.form,
        b.indicator_code,
        i.temporal,
        SUBSTR(b.period, 1, 4) AS period,
        SUBSTR(b.period, 6, 1) AS quarter,
        b.own_value,
        b.sum_children
    FROM consolidation_base AS b
    INNER JOIN dim_indicator AS i
        ON b.form = i.form AND b.indicator_code = i.indicator_code
    WHERE i.temporal IN ('stock', 'flow') AND SUBSTR(b.period, 5, 1) = 'Q'
),

annual AS (
    SELECT
        unit_code,
        form,
        indicator_code,
        temporal,
        period,
        COUNT(own_value) AS quarters_reported,
        CASE
            WHEN temporal = 'stock' THEN MAX(CASE WHEN quarter = '4' THEN own_value END)
            WHEN COUNT(own_value) = 4 THEN ROUND(SUM(own_value), 2)
        END AS own_value,
        COUNT(sum_children) AS quarters_with_children,
        CASE
            WHEN temporal = 'stock' THEN MAX(CASE WHEN quarter = '4' THEN sum_children END)
            WHEN COUNT(sum_children) = 4 THEN ROUND(SUM(sum_children), 2)
        END AS sum_children
    FROM quarterly
    GROUP BY unit_code, form, indicator_code, temporal, period
)

SELECT
    a.unit_code,
    u.name AS unit_name,
    u.level,
    u.parent_code,
    a.form,
    a.indicator_code,
    i.name AS indicator_name,
    i.unit,
    a.temporal,
    a.period,
    CAST(a.period AS INTEGER) AS year,
    a.quarters_reported,
    a.own_value,
    a.quarters_with_children,
    a.sum_children,
    ROUND(a.own_value - a.sum_children, 2) AS diff
FROM annual AS a
INNER JOIN dim_org_unit AS u ON a.unit_code = u.unit_code AND u.valid_to IS NULL
INNER JOIN dim_indicator AS i ON a.form = i.form AND a.indicator_code = i.indicator_code;

-- The same unit, indicator and period stated in a notice and in returns. A
-- notice's year is compared with the year's own return if there is one, else
-- with the roll-up of the quarters; the return side is NULL when nothing
-- was returned for it.
CREATE VIEW v_notice_vs_return AS
WITH return_side AS (
    SELECT
        unit_code,
        form,
        indicator_code,
        period,
        own_value,
        sum_children
    FROM v_consolidated
    UNION ALL
    SELECT
        a.unit_code,
        a.form,
        a.indicator_code,
        a.period,
        a.own_value,
        a.sum_children
    FROM v_annual_values AS a
    WHERE NOT EXISTS (
        SELECT 1
        FROM fact_indicator_value AS y
        WHERE
            y.source = 'return' AND y.unit_code = a.unit_code AND y.form = a.form
            AND y.indicator_code = a.indicator_code AND y.period = a.period
    )
)

SELECT
    nf.unit_code,
    u.name AS unit_name,
    nf.form,
    nf.indicator_code,
    i.name AS indicator_name,
    nf.period,
    nf.value_current AS notice_value,
    nf.qualifier AS notice_qualifier,
    ns.quote AS notice_quote,
    n.url AS notice_url,
    COALESCE(r.own_value, r.sum_children) AS return_value,
    CASE
        WHEN r.own_value IS NOT NULL THEN 'own_return'
        WHEN r.sum_children IS NOT NULL THEN 'sum_of_children'
    END AS return_basis,
    ROUND(nf.value_current - COALESCE(r.own_value, r.sum_children), 2) AS difference
FROM fact_indicator_value AS nf
INNER JOIN notice_statistic AS ns ON nf.source_ref = ns.statistic_id
INNER JOIN notice AS n ON ns.notice_id = n.notice_id
INNER JOIN dim_org_unit AS u ON nf.unit_code = u.unit_code AND u.valid_to IS NULL
INNER JOIN dim_indicator AS i ON nf.form = i.form AND nf.indicator_code = i.indicator_code
LEFT JOIN return_side AS r
    ON
        nf.unit_code = r.unit_code AND nf.form = r.form
        AND nf.indicator_code = r.indicator_code AND nf.period = r.period
WHERE nf.source = 'notice';
