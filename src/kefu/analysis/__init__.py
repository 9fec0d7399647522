"""The analysis session: the one way the CLI and the web app reach the core.

    Analysis(data, options) → .metrics / .evidence / .evaluate / .whatif / .training
    rederive(manifest, data) → the same result again, or ValueError naming what changed
"""

from kefu.analysis.manifest import Manifest
from kefu.analysis.session import Analysis, rederive
from kefu.options import AnalysisOptions, analysis_options

__all__ = ["Analysis", "AnalysisOptions", "Manifest", "analysis_options", "rederive"]
