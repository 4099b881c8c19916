-- linkage.eval_cluster_scores: how well one clustering of mother records recovers true women.
-- Purpose: pairwise precision, recall and F1 over pairs of records; B-cubed precision and
--   recall; the share of true women recovered exactly (same set of records); predicted women
--   holding records of two or more true women (mixed_women), and those of them with more than
--   two records, joined through a chain of edges rather than by one false pair
--   (chained_women). All are computed
--   from the contingency table of predicted against true clusters, so cost grows with records,
--   not with pairs.
-- Inputs: linkage.eval_predicted (record_id, pred_cluster), linkage.eval_truth_records.
-- Parameters: none.
create or replace table linkage.eval_cluster_scores as
with labelled as (
    select
        p.pred_cluster,
        t.true_mother_id as true_cluster
    from linkage.eval_predicted as p
    inner join linkage.eval_truth_records as t on p.record_id = t.record_id
),

cells as (
    select
        pred_cluster,
        true_cluster,
        count(*)::double as n
    from labelled
    group by pred_cluster, true_cluster
),

pred as (
    select
        pred_cluster,
        sum(n) as n
    from cells
    group by pred_cluster
),

truth as (
    select
        true_cluster,
        sum(n) as n
    from cells
    group by true_cluster
),

joined as (
    select
        c.n,
        p.n as pred_n,
        t.n as true_n
    from cells as c
    inner join pred as p on c.pred_cluster = p.pred_cluster
    inner join truth as t on c.true_cluster = t.true_cluster
),

totals as (
    select
        sum(n) as records,
        sum(n * (n - 1) / 2) as true_positive_pairs,
        sum(n * n / pred_n) / sum(n) as bcubed_precision,
        sum(n * n / true_n) / sum(n) as bcubed_recall,
        count(*) filter (where n = pred_n and n = true_n) as exact_women
    from joined
),

pair_totals as (
    select
        (select sum(n * (n - 1) / 2) from pred) as predicted_pairs,
        (select sum(n * (n - 1) / 2) from truth) as true_pairs,
        (select count(*) from truth) as true_women,
        (select count(*) from pred) as predicted_women
),

mixed as (
    select
        count(*) as mixed_women,
        count(*) filter (where p.n > 2) as chained_women
    from (
        select pred_cluster from cells group by pred_cluster having count(*) > 1
    ) as m
    inner join pred as p on m.pred_cluster = p.pred_cluster
)

select
    t.records::bigint as records,
    p.true_women::bigint as true_women,
    p.predicted_women::bigint as predicted_women,
    t.true_positive_pairs::bigint as true_positive_pairs,
    p.predicted_pairs::bigint as predicted_pairs,
    p.true_pairs::bigint as true_pairs,
    t.true_positive_pairs / nullif(p.predicted_pairs, 0) as pairwise_precision,
    t.true_positive_pairs / nullif(p.true_pairs, 0) as pairwise_recall,
    2 * t.true_positive_pairs / nullif(p.predicted_pairs + p.true_pairs, 0) as pairwise_f1,
    t.bcubed_precision,
    t.bcubed_recall,
    2 * t.bcubed_precision * t.bcubed_recall
    / nullif(t.bcubed_precision + t.bcubed_recall, 0) as bcubed_f1,
    t.exact_women / nullif(p.true_women, 0) as share_women_exact,
    m.mixed_women::bigint as mixed_women,
    m.chained_women::bigint as chained_women
from totals as t
cross join pair_totals as p
cross join mixed as m;
