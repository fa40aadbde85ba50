"""factory_boy factories that create rows through the services, as the product does."""

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
