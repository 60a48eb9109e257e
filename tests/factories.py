"""factory_boy factories for the tenancy models."""

from __future__ import annotations

import secrets

import factory
from django.contrib.auth import get_user_model
from oauth2_provider.models import Application

from authority.models import Container, Membership, Owner, Role


class OwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Owner
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"owner-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user-{n}")
    is_staff = True
    password = factory.django.Password("correct horse battery")


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    name = factory.Sequence(lambda n: f"service-{n}")
    client_type = Application.CLIENT_CONFIDENTIAL
    authorization_grant_type = Application.GRANT_CLIENT_CREDENTIALS


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    owner = factory.SubFactory(OwnerFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OPERATOR


class ContainerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Container

    owner = factory.SubFactory(OwnerFactory)
    cid = factory.LazyFunction(lambda: secrets.token_bytes(32))
    name = factory.Sequence(lambda n: f"container-{n}")
