"""Statistics out of a federation page: every figure an analyst would tabulate.

A statistic is a number with a measure word (``136篇``, ``2.4万名``), a money
amount (``146.41万元`` → 1464100 元), a percentage (``98.13%``, ``九成``, ``2/3``),
or a 万/亿-scaled count without measure word (``观看量超200万``), each with:

- ``quote``: the clause that states it, from the clause start to the end of
  the figure (``全年完成“两癌”筛查人数79956人``), as offsets into the
  normalized text and into the raw page;
- ``value`` in base units and a canonical ``unit``: people are 人 whatever the
  measure word (名, 位), 场 is 场次, money is 元; otherwise the measure word
  itself (个, 家, 户, 人次, 次, 期, 件, 件次, 起, 例, 篇, 条, 份, …), ``%`` for
  rates, None for bare scaled counts (see ``numbers.CANONICAL_UNIT``);
- ``qualifier``: ``exact``; ``at_least`` (余, 多, 超, 超过, 逾, 突破, 以上, 不少于);
  ``approx`` (约, 左右, 来, 上下); ``at_most`` (近, 不到, 不足, 以内, 以下);
- ``indicator``: the FL-01 code (``R01``… for derived rates) when the words
  before the figure name one of the catalog's indicators or aliases and the
  unit fits; ``indicator_name`` says in words what is counted;
- ``org``/``org_code``: the page's organisation, or the level a scope word
  names (``全市`` on a town page is its city), or a subordinate division named
  in the clause; ``period``: ``全年`` → the report year, ``截至2月9日`` → an
  ISO date, ``7月30日起`` → an open range ``2021-07-30/``, else the page year.

Never statistics: quotas, requirements and plans (``每村至少推荐2户``,
``名额3名``, ``力争…``, ``将…``), page counters and widgets (``浏览次数：418``,
``0人点赞``), thresholds inside a statistic (``在2万元以上的``), numbers too long
to be figures (more than 15 integer digits), dates, times, phone numbers,
document numbers, hotline numbers (12338), programme names (``3+1``), years,
list numbering, ordinals (``第二``, ``排名第二``, ``三届六次``), figures inside
book titles ``《…》`` or short quoted names (``“四个意识”``), a lone Chinese
numeral in a fixed expression (``两个维护``, ``三位一体``; ``四个示范点``
counts), ``一`` with any measure word (``一名``, ``一次``), and the
round-the-clock ``24小时``.

Tables (tab- or pipe-separated rows, space-aligned columns, or one cell per
line) give one statistic per numeric cell with its row and column headers;
total rows (合计/总计/全市…) are checked against the sum of their parts.

The package has one module per concern: ``figures`` (numbers, units,
qualifiers), ``context`` (organisation, period, indicator), ``tables`` (tables
written as text), ``model`` (the records returned) and ``page`` (a page's
statistics, prose and tables, in text order).
"""

from huizong.portal.extract.context import FORM
from huizong.portal.extract.model import PageExtraction, Statistic, TextTable
from huizong.portal.extract.page import extract_page, extract_statistics
from huizong.portal.extract.tables import catalog_unit_guess

__all__ = [
    "FORM",
    "PageExtraction",
    "Statistic",
    "TextTable",
    "catalog_unit_guess",
    "extract_page",
    "extract_statistics",
]
