"""huizong (汇总): consolidates the statistics of China's women's federations across levels."""

__version__ = "0.1.0"
