import sys
from pathlib import Path

# make the test helpers (stylized.py, ...) importable from every test module
sys.path.insert(0, str(Path(__file__).parent))
