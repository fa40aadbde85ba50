"""Organisations, members and secretaries, created through the people services as the product does.

``OrganizationFactory`` and ``MemberFactory`` are factory_boy factories; every member they
make can log in with ``DEFAULT_PASSWORD``.
"""

from __future__ import annotations

from typing import Any

import factory

from learning.models import Member, Organization
from learning.people import roles, services

DEFAULT_PASSWORD = "Xuexi-2026-pass"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"第{n}党支部")
    code = factory.Sequence(lambda n: f"ORG{n:04d}")
    kind = Organization.Kind.BRANCH
    sort_order = factory.Sequence(int)

    @classmethod
    def _create(
        cls, model_class: type, *args: Any, parent: Organization | None = None, **kwargs: Any
    ) -> Organization:
        return services.organization_create(parent=parent, **kwargs)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    username = factory.Sequence(lambda n: f"member{n:04d}")
    display_name = factory.Sequence(lambda n: f"党员{n}")
    organization = factory.SubFactory(OrganizationFactory)

    @classmethod
    def _create(
        cls,
        model_class: type,
        *args: Any,
        password: str = DEFAULT_PASSWORD,
        role_names: list[str] | None = None,
        **kwargs: Any,
    ) -> Member:
        return services.member_create(
            password=password, role_names=role_names or [roles.MEMBER], **kwargs
        )


def secretary_of(
    organization: Organization,
    username: str,
    display_name: str,
    *,
    member_of: Organization | None = None,
) -> Member:
    """A secretary of ``organization``'s subtree (the role comes with the appointment).

    The secretary is a member of ``member_of``, by default of ``organization`` itself.
    """
    secretary = MemberFactory(
        username=username, display_name=display_name, organization=member_of or organization
    )
    services.secretary_assign(member=secretary, organization=organization)
    return secretary
