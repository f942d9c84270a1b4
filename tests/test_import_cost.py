import subprocess
import sys

HEAVY = ("torch", "transformers", "av", "datasets", "trl", "peft", "sentence_transformers", "decord")


def test_importing_package_and_cli_loads_no_heavy_library():
    code = "import sys, videostar, videostar.cli; print(','.join(m for m in %r if m in sys.modules))" % (HEAVY,)
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""
