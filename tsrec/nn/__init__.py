"""Networks: torch modules on (batch, time, channels), built only from tsrec.kernels and torch (and the
package's stdlib-only argument checks, tsrec._checks)."""

from tsrec.nn.arnet import ARNet
from tsrec.nn.companion_ssm import ClosedLoopSSM, CompanionSSM
from tsrec.nn.cyclenet import CycleNet
from tsrec.nn.liquid import LiquidEncoder, LiquidForecaster
from tsrec.nn.ls4 import LS4, LS4Encoder
from tsrec.nn.ltc import CfCCell, LTCCell
from tsrec.nn.normalization import InstanceNorm
from tsrec.nn.pgn import PGNEncoder, PGNLayer
from tsrec.nn.smamba import MambaBlock, SMamba, SMambaTokens
from tsrec.nn.spacetime import SpaceTime, SpaceTimeEncoder
from tsrec.nn.tpgn import TPGN

__all__ = ["ARNet", "CfCCell", "ClosedLoopSSM", "CompanionSSM", "CycleNet", "InstanceNorm", "LS4", "LS4Encoder",
           "LTCCell", "LiquidEncoder", "LiquidForecaster", "MambaBlock", "PGNEncoder", "PGNLayer", "SMamba",
           "SMambaTokens", "SpaceTime", "SpaceTimeEncoder", "TPGN"]
