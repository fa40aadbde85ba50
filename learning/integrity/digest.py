"""The daily email to reviewers: how many flags were raised in their scope in the last day.

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


def integrity_digest_send(*, until: datetime.datetime) -> int:
    """Email each reviewer the open flags raised in their scope in the 24 hours before
    ``until`` (the job's own time: the night's study flags included); emails sent."""
    end = until
    start = end - datetime.timedelta(days=1)
    day = timezone.localdate(end)
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
            body = ngettext(
                "%(count)d new integrity flag was raised by %(day)s in the organisations "
                "you look after; it waits for your review:\n\n%(url)s\n\n"
                "Dismiss a flag when the study is genuine; confirm it, with a reason, when "
                "it is not. Please speak with the member before you confirm.",
                "%(count)d new integrity flags were raised by %(day)s in the organisations "
                "you look after; they wait for your review:\n\n%(url)s\n\n"
                "Dismiss a flag when the study is genuine; confirm it, with a reason, when "
                "it is not. Please speak with the member before you confirm.",
                count,
            ) % {"count": count, "day": day.isoformat(), "url": url}
        send_mail(subject, body, None, [reviewer.email])
        sent += 1
    logger.info("integrity digest for %s: %d email(s)", day, sent)
    return sent
