#!/usr/bin/env bash
# Lighthouse (mobile) on the demo in the production shape: DEBUG off, gunicorn, whitenoise with
# collected, compressed and hashed static files. Not part of `make test`.
#
#   npm install --prefix /tmp/lighthouse lighthouse@12.2.3    # once (Lighthouse 13 needs Node 22)
#   CHROME_PATH=/usr/bin/chromium bash bench/lighthouse.sh      # scores for the four pages
#
# It serves a fresh SQLite copy of the demo (the database does not change what Lighthouse sees)
# on 127.0.0.1:8200, logs the demo booker in for /portal/events/, and prints one line per page.
set -euo pipefail
cd "$(dirname "$0")/.."
LIGHTHOUSE=${LIGHTHOUSE:-/tmp/lighthouse/node_modules/.bin/lighthouse}
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
PORT=${PORT:-8200}
OUT=${OUT:-var/lighthouse}
BASE="http://127.0.0.1:$PORT"
mkdir -p "$OUT"

export DJANGO_DEBUG=false SECRET_KEY=lighthouse-run-only-not-a-real-secret-0123456789abcdef
export ALLOWED_HOSTS=127.0.0.1,localhost SITE_URL=$BASE SECURE_SSL_REDIRECT=false SECURE_COOKIES=false
export SERVE_MEDIA=true DATABASE_URL="sqlite:///$PWD/$OUT/demo.sqlite3" MEDIA_ROOT="$PWD/$OUT/media"
unset REDIS_URL
rm -f "$OUT/demo.sqlite3"
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo > /dev/null 2>&1
.venv/bin/python manage.py collectstatic --noinput -v0
.venv/bin/gunicorn portal.wsgi --bind "127.0.0.1:$PORT" --workers 2 --no-control-socket --log-level warning &
SERVER=$!
trap 'kill $SERVER' EXIT
for _ in $(seq 50); do curl -sf "$BASE/healthz" > /dev/null && break; sleep 0.2; done

# The demo booker's session cookie, for the portal page.
SESSION=$(.venv/bin/python - "$BASE" <<'PY'
import http.cookiejar, re, sys, urllib.parse, urllib.request
base = sys.argv[1]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
page = opener.open(f"{base}/accounts/login/").read().decode()
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "login": "demo@example.com", "password": "portal-demo-2026"})
opener.open(urllib.request.Request(f"{base}/accounts/login/", data=data.encode(), headers={"Referer": f"{base}/accounts/login/"}))
print(next(c.value for c in jar if c.name == "sessionid"))
PY
)
EVENT=$(.venv/bin/python manage.py shell -v 0 -c "from bookings.models import Event; print(Event.objects.get(title='Sunrise Flow').code)")

run() {  # name, path, extra args
  "$LIGHTHOUSE" "$BASE$2" --quiet --output=json --output-path="$OUT/$1.json" \
    --only-categories=performance,accessibility,best-practices,seo \
    --chrome-flags="--headless=new --no-sandbox --disable-gpu" "${@:3}"
  node -e '
    const r = require(process.argv[1]); const c = r.categories;
    const s = (k) => c[k].score.toFixed(2);
    console.log(`${process.argv[2].padEnd(40)} performance ${s("performance")}  accessibility ${s("accessibility")}  best-practices ${s("best-practices")}  seo ${s("seo")}`);
  ' "$PWD/$OUT/$1.json" "$2"
}
run home /
run organiser /riverside-yoga/
run event "/riverside-yoga/events/$EVENT/"
run portal /portal/events/ --extra-headers="{\"Cookie\": \"sessionid=$SESSION\"}"
