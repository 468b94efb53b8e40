#!/usr/bin/env bash
# Regenerates the two pictures of docs/loop.md and README.md "Closing the loop with town staff":
#   loop_workbook_print.png   the first page of a town workbook's sheet 打印版 as printed
#                             (LibreOffice headless → PDF → pdftoppm), top part of the page
#   loop_report.png           the report's section 核查反馈 (headless Chromium on a copy of the
#                             month's report.html holding only that section, less its table per
#                             alert type, whose 属实比例 is the section's first chart)
# from the sample data (`lim demo`: the first month's lists are answered by generated feedback,
# so later months show 上次核查结论, 逾期 and 解除), run in a temporary folder (var/ is untouched).
# Needs LibreOffice, poppler-utils, chromium and fonts-noto-cjk. Usage, from the repository root:
#   docs/screenshots/make_loop_pictures.sh [MONTH]        (default: the last sample month)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
DEST=docs/screenshots
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "lim demo → $TMP"
DAGSTER_HOME="$TMP/dagster_home" PYTHONPATH=. "$PY" -m pipelines.cli demo \
  --warehouse "$TMP/warehouse.duckdb" --out "$TMP/out" > "$TMP/demo.log" 2>&1
MONTH=${1:-$(ls "$TMP/out" | grep -E '^[0-9]{4}-[0-9]{2}$' | tail -1)}
OUT="$TMP/out/$MONTH"

# The town workbook with the most alerts (a full first page). 宋体, the workbook's font, is
# shown with Noto Sans CJK SC (fontconfig alias) — LibreOffice would otherwise pick a Japanese
# CJK face and DejaVu's wide Latin digits.
BOOK=$(PYTHONPATH=. "$PY" - "$OUT/workbooks" <<'EOF'
import sys, pathlib, openpyxl
books = sorted(pathlib.Path(sys.argv[1]).glob("*.xlsx"))
print(max(books, key=lambda p: (openpyxl.load_workbook(p, read_only=True)["核查清单"].max_row, p.name)))
EOF
)
cat > "$TMP/fonts.conf" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <alias binding="strong"><family>宋体</family><prefer><family>Noto Sans CJK SC</family></prefer></alias>
  <alias binding="strong"><family>SimSun</family><prefer><family>Noto Sans CJK SC</family></prefer></alias>
</fontconfig>
EOF
cp "$BOOK" "$TMP/town.xlsx"
FONTCONFIG_FILE="$TMP/fonts.conf" soffice -env:UserInstallation="file://$TMP/lo" --headless \
  --convert-to pdf --outdir "$TMP" "$TMP/town.xlsx" > /dev/null 2>&1
# the first page of 打印版: the page whose header says 入户核查用
PAGES=$(pdfinfo "$TMP/town.pdf" | awk '/^Pages:/ {print $2}')
PAGE=""
for p in $(seq 1 "$PAGES"); do
  if pdftotext -f "$p" -l "$p" "$TMP/town.pdf" - | grep -q "入户核查用"; then PAGE=$p; break; fi
done
[ -n "$PAGE" ] || { echo "no 打印版 page in $BOOK" >&2; exit 1; }
# A4 landscape at 110 dpi is 1286 × 909 px: the top 560 px hold the page header and the first rows.
pdftoppm -png -r 110 -f "$PAGE" -l "$PAGE" -x 0 -y 0 -W 1286 -H 560 -singlefile "$TMP/town.pdf" "$DEST/loop_workbook_print"

# The report's section 核查反馈 alone (same styles), screenshotted at a laptop width.
"$PY" - "$OUT/report.html" "$TMP/loop.html" <<'EOF'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
section = re.search(r"<section id='loop'>.*?</section>", html, re.S).group(0)
section = re.sub(r"<h3>各类预警.*?(?=<h3>)", "", section, count=1, flags=re.S)
head = html[:html.index("<main>") + len("<main>")]
open(sys.argv[2], "w", encoding="utf-8").write(head + section + "</main></body></html>\n")
EOF
CHROMIUM=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
"$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$TMP/chromium" \
  --window-size="${REPORT_SIZE:-900,930}" --screenshot="$DEST/loop_report.png" "file://$TMP/loop.html" > /dev/null 2>&1
ls -l "$DEST"/loop_workbook_print.png "$DEST"/loop_report.png
echo "$MONTH: $(basename "$BOOK"), page $PAGE of $PAGES"
