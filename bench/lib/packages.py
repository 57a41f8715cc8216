"""Installing the Debian packages a bench script runs, when they are missing."""

import os
import shutil
import subprocess


def install_missing(tools):
    """Installs, with apt-get, the package of each tool in `tools` (tool → Debian
    package) that is not on the PATH; does nothing when every tool is there."""
    missing = sorted({package for tool, package in tools.items() if shutil.which(tool) is None})
    if not missing:
        return
    print("installing:", " ".join(missing), flush=True)
    subprocess.run(["apt-get", "update"], check=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y"] + missing, check=True, env=env)
