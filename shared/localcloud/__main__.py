"""``python -m localcloud``: serve a local Alibaba Cloud (same options as ``ecs-events localcloud``)."""

from __future__ import annotations

import sys

from localcloud.serve import main

if __name__ == "__main__":
    sys.exit(main())
