"""The audit log page, /admin/audit: every event in words, newest first, filtered.

Its route is on the admin blueprint (survey_app.admin.views.bp), so the page keeps its
name, ``admin.audit_log``.
"""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from survey_app.accounts.access import role_required
from survey_app.admin import audit_log
from survey_app.admin.audit_forms import AuditFilterForm
from survey_app.admin.views import bp
from survey_app.core.db import get_session
from survey_app.core.templating import form_errors
from survey_app.scheduling.admin_views import page_number

FILTER_FIELDS = ("user", "action", "since-day", "since-month", "since-year", "until-day",
                 "until-month", "until-year")


@bp.get("/audit", endpoint="audit_log")
@role_required("admin")
def audit_log_page() -> ResponseReturnValue:
    """Who looked at, exported or changed what, and when (never an answer)."""
    session = get_session()
    form = AuditFilterForm(request.args)
    form.set_choices(audit_log.users_with_events(session),
                     [(action, audit_log.action_label(action))
                      for action in audit_log.recorded_actions(session)])
    if not form.validate():
        return render_template("admin/audit.html", form=form, errors=form_errors(form),
                               found=None, events=[], query={}), 400
    found = audit_log.find_events(session, chosen=form.chosen(), number=page_number())
    if found.number > 1 and not found.items:
        abort(404)
    names = audit_log.load_names(session)
    events = [(entry, audit_log.describe(entry, names)) for entry in found.items]
    # The filter rides along on the Previous and Next links.
    query = {name: request.args[name] for name in FILTER_FIELDS if request.args.get(name)}
    return render_template("admin/audit.html", form=form, errors=[], found=found,
                           events=events, query=query)
