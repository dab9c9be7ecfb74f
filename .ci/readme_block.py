"""Print the fenced shell block that follows `<!-- ci: NAME -->` in README.md (CI runs it with bash)."""
import re
import sys
from pathlib import Path

name = sys.argv[1]
text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
m = re.search(r"<!-- ci: " + re.escape(name) + r" -->\s*```[a-z]*\n(.*?)```", text, re.S)
if not m:
    sys.exit(f"README.md has no block marked <!-- ci: {name} -->")
print(m.group(1))
