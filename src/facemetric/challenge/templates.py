"""HTML pages of the contest site, rendered by Jinja2 with autoescaping on (team names are user text)."""

from __future__ import annotations

from functools import lru_cache

BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
 nav a { margin-right: 1rem; }
 table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
 th, td { padding: .4rem .7rem; border-bottom: 1px solid #ddd; text-align: left; }
 th { background: #f3f5f8; }
 td.num { text-align: right; font-variant-numeric: tabular-nums; }
 tr.baseline td { color: #666; font-style: italic; }
 .note { color: #555; }
 .error { color: #a00; font-weight: 600; }
 .ok { color: #060; font-weight: 600; }
 form p { margin: .6rem 0; }
</style></head>
<body>
<nav><a href="/">Leaderboard</a><a href="/submit">Submit</a><a href="/me">My submissions</a></nav>
<h1>{{ title }}</h1>
{% block body %}{% endblock %}
</body></html>
"""

LEADERBOARD = """{% extends "base.html" %}{% block body %}
<h2>{{ "Final (private) leaderboard" if closed else "Public leaderboard" }}</h2>
<p class="note">Metric: {{ metric }}.
{% if closed %}The contest closed at {{ closed_at }}; ranks use the private part of the pairs.
{% else %}Scores use the public {{ public_pct }} of the pairs; the private ranking is revealed at the close.{% endif %}</p>
<table id="leaderboard">
<thead><tr><th>Rank</th><th>Team</th><th>Entries</th><th>Best public</th>{% if closed %}<th>Private</th>{% endif %}<th>Last submission</th></tr></thead>
<tbody>
{% for row in rows %}
<tr class="{{ 'baseline' if row.baseline else 'team' }}">
<td>{{ row.rank if row.rank is not none else "" }}</td><td class="team-name">{{ row.team }}</td>
<td class="num">{{ row.entries }}</td><td class="num">{{ fmt(row.public) }}</td>
{% if closed %}<td class="num">{{ fmt(row.private) }}</td>{% endif %}
<td>{{ when(row.last_submission) }}</td></tr>
{% endfor %}
</tbody></table>
<p><a href="/leaderboard.csv">Download as CSV</a></p>
{% endblock %}"""

SUBMIT = """{% extends "base.html" %}{% block body %}
<h2>Submit</h2>
{% if closed %}<p class="error">The contest is closed; submissions are no longer accepted.</p>{% endif %}
{% if error %}<p class="error" id="error">{{ error }}</p>{% endif %}
{% if result %}<p class="ok" id="result">Submission {{ result.id }} by {{ team }} was accepted.
Public score: <span id="public-score">{{ fmt(result.public_score) }}</span>.</p>{% endif %}
<form method="post" action="/submit" enctype="multipart/form-data">
<p><label>Team token <input type="password" name="token" id="token" required autocomplete="off" size="50"></label></p>
<p><label>CSV file (pair_id,score) <input type="file" name="file" id="file" accept=".csv,text/csv" required></label></p>
<p><button type="submit" id="send">Submit</button></p>
</form>
<p class="note">One line per test pair, header <code>pair_id,score</code>, a higher score meaning "same person".
At most {{ max_bytes }} bytes and {{ daily_limit }} submissions per team per day (UTC).</p>
{% endblock %}"""

ME = """{% extends "base.html" %}{% block body %}
<h2>My submissions</h2>
{% if error %}<p class="error" id="error">{{ error }}</p>{% endif %}
{% if message %}<p class="ok" id="message">{{ message }}</p>{% endif %}
{% if team %}
<p>Team <strong>{{ team }}</strong>: {{ subs|length }} submission(s).
Choose up to {{ max_final }} final submission(s); with none chosen, your best public one counts.</p>
<form method="post" action="/me/final">
<input type="hidden" name="token" value="{{ token }}">
<table id="history"><thead><tr><th>Id</th><th>Time (UTC)</th><th>Bytes</th><th>Public</th>{% if closed %}<th>Private</th>{% endif %}<th>Final</th></tr></thead>
<tbody>
{% for s in subs %}<tr><td>{{ s.id }}</td><td>{{ when(s.created_at) }}</td><td class="num">{{ s.n_bytes }}</td>
<td class="num">{{ fmt(s.public_score) }}</td>{% if closed %}<td class="num">{{ fmt(s.private_score) }}</td>{% endif %}
<td><input type="checkbox" name="final" value="{{ s.id }}" {{ "checked" if s.id in finals else "" }} {{ "disabled" if closed else "" }}></td></tr>
{% endfor %}</tbody></table>
{% if not closed %}<p><button type="submit" id="save-final">Save final choice</button></p>{% endif %}
</form>
{% else %}
<form method="post" action="/me">
<p><label>Team token <input type="password" name="token" id="token" required autocomplete="off" size="50"></label></p>
<p><button type="submit" id="show">Show</button></p>
</form>
{% endif %}
{% endblock %}"""


def fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.5f}"


def when(stamp: str | None) -> str:
    """``2026-01-02T03:04:05.678+00:00`` -> ``2026-01-02 03:04:05 UTC``."""
    return "" if not stamp else stamp[:19].replace("T", " ") + " UTC"


@lru_cache(maxsize=1)
def environment():
    """The Jinja2 environment; autoescaping is on for every template."""
    from facemetric.errors import require

    jinja2 = require("jinja2", "challenge")
    env = jinja2.Environment(
        loader=jinja2.DictLoader(
            {"base.html": BASE, "leaderboard.html": LEADERBOARD, "submit.html": SUBMIT, "me.html": ME}
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(fmt=fmt, when=when)
    return env


def render(name: str, **context) -> str:
    return environment().get_template(name).render(**context)
