"""The whitelabel-gateway policy pack: `pulumi preview --policy-pack policy` (the Pulumi CLI runs this file).

The only place the pack is started: constructing `PolicyPack` serves the policies to the engine until it stops us.
"""

import sys
from pathlib import Path

# The pack's own modules import each other by their plain names, however the CLI starts this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from crossguard import pack_arguments
from pulumi_policy import PolicyPack

PolicyPack(**pack_arguments())
