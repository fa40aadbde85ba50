"""The daily email to reviewers: how many flags were raised in their scope the day before.

One email per reviewer (a secretary with an email address, an administrator) with new
open flags in their scope; none when there are none. Sent by the beat job every morning
(``learning.integrity_digest``) in the site's language, with a link to the review queue.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override

from learning.integrity.selectors import REVIEW_PERMISSION, flags_visible_to
from learning.models import IntegrityFlag, Member
from learning.people import roles

logger = logging.getLogger(__name__)


def _reviewers() -> list[Member]:
    """Active members who may review flags and have an email address."""
    candidates = (
        Member.objects.filter(is_active=True)
        .exclude(email="")
        .filter(
            Q(is_superuser=True)
            | Q(groups__name__in=[roles.ADMINISTRATOR, roles.SECRETARY])
            | Q(secretary_of__isnull=False)
        )
        .distinct()
        .order_by("pk")
    )
    return [member for member in candidates if member.has_perm(REVIEW_PERMISSION)]


def integrity_digest_send(*, day: datetime.date) -> int:
    """Email each reviewer the open flags raised on ``day`` in their scope; emails sent."""
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    end = start + datetime.timedelta(days=1)
    new = IntegrityFlag.objects.filter(
        status=IntegrityFlag.Status.OPEN, raised_at__gte=start, raised_at__lt=end
    )
    if not new.exists():
        return 0
    url = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("learning_integrity_flags")
    sent = 0
    for reviewer in _reviewers():
        count = flags_visible_to(reviewer).filter(pk__in=new.values("pk")).count()
        if not count:
            continue
        with override(settings.LANGUAGE_CODE):
            subject = ngettext(
                "Integrity review: %(count)d new flag",
                "Integrity review: %(count)d new flags",
                count,
            ) % {"count": count}
            body = _(
                "%(count)d new integrity flags were raised on %(day)s in the organisations "
                "you look after. Their points wait for your review:\n\n%(url)s\n\n"
                "Dismiss a flag when the study is genuine; confirm it, with a reason, when "
                "it is not. Please speak with the member before you confirm."
            ) % {"count": count, "day": day.isoformat(), "url": url}
        send_mail(subject, body, None, [reviewer.email])
        sent += 1
    logger.info("integrity digest for %s: %d email(s)", day, sent)
    return sent
