"""The demo shop generator: a realistic, deterministic month of a shop's exports.

``generate(out, DemoConfig(...))`` writes the canonical tables of data.md
(agents, messages, orders, ratings, cases, sessions) as CSV or Parquet into
``out`` and returns a one-line summary. Same seed, byte-identical files.
"""

from kefu.demo.generator import DemoConfig, DemoShop, build, generate, write

__all__ = ["DemoConfig", "DemoShop", "build", "generate", "write"]
