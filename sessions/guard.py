"""The one guarded write a click makes.

Access (a member of the session's group), role and step are checked, and the
version bumped, by a single `UPDATE … WHERE … RETURNING`: a click does not
read the session first, and then again to draw what changed. The row comes
back as the UPDATE left it, with what the broadcast needs beside it (the
group's name and code, the languages the open sockets read, the members).

The role is the one `sessions.roles.role_map` gives, written in SQL: the
person's participation, else consultant once a session facilitator is named,
else the group's animateur is the facilitator. tests/sessions/test_guard.py
holds the two to the same answers.

A click that adds a row (a question, a card, a learning) hands it to the
claim, unsaved: on PostgreSQL the UPDATE and the INSERT are one statement
(`WITH claimed AS (UPDATE … RETURNING …) INSERT … SELECT … FROM claimed`),
atomic by itself and written only if the claim holds; elsewhere they are two,
in a transaction.

No row back means refused, and the refusal is rare: only then is the session
read, to say why (404, 403, or the step's French message), by the same checks
as before (`sessions.services._refuse`).
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from groups.models import Group, Membership
from sessions.models import Participation, Presence, Session
from sessions.roles import AUDIENCES


@dataclass(frozen=True)
class Raw:
    """A SET value written in SQL (`"extra_minutes + %s"`), columns unquoted."""

    sql: str
    params: tuple = ()


@dataclass
class Claimed:
    """The session row as the guarded write left it, and who hears it."""

    session: Session
    languages: set
    members: list
    # The languages the open room screens read (none open: nothing is drawn
    # for the room).
    room_languages: set = frozenset()

    @property
    def version(self) -> int:
        return self.session.version


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def column(name: str) -> str:
    """A column of the session's table, quoted, for a `where` or a `Raw`."""
    return _q(name)


def _aggregate(column: str) -> str:
    """The distinct values of a column, joined by commas, in this database's words."""
    if connection.vendor == "postgresql":
        return f"string_agg(DISTINCT CAST({column} AS text), ',')"
    return f"group_concat(DISTINCT {column})"


def _adapt(value):
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _role_sql(session_table: str) -> str:
    """The person's role in the session, as `sessions.roles.role_map` decides it;
    the person's id goes in twice."""
    p = _q(Participation._meta.db_table)
    m = _q(Membership._meta.db_table)
    # Identifiers from the models' meta, quoted; every value is a parameter.
    sql = (
        f"COALESCE((SELECT {p}.role FROM {p} WHERE {p}.session_id = {session_table}.id"  # noqa: S608
        f" AND {p}.user_id = %s),"
        f" CASE WHEN EXISTS (SELECT 1 FROM {p} WHERE {p}.session_id = {session_table}.id"
        f" AND {p}.role = 'facilitator') THEN 'consultant'"
        f" WHEN EXISTS (SELECT 1 FROM {m} WHERE {m}.group_id = {session_table}.group_id"
        f" AND {m}.user_id = %s AND {m}.role = 'facilitator') THEN 'facilitator'"
        " ELSE 'consultant' END)"
    )
    return sql


def claim(
    session,
    user,
    *,
    roles=AUDIENCES,
    steps=None,
    status=Session.Status.LIVE,
    where=(),
    values=None,
    insert=None,
) -> Claimed | None:
    """Bump the version of `session` (a Session or its code) if `user` may act.

    `roles`: the roles allowed; `steps`: the steps allowed (None: any);
    `status`: the status it must have; `where`: more (sql, params) conditions
    on the session's columns; `values`: columns to set with the bump, to a
    value or a `Raw` expression; `insert`: an unsaved row of the session
    (its `session` left unset), saved with the claim and only if it holds.
    None when any condition fails.
    """
    table = _q(Session._meta.db_table)
    sets = [f"{_q('version')} = {table}.{_q('version')} + 1"]
    set_params = []
    for column, value in (values or {}).items():
        if isinstance(value, Raw):
            sets.append(f"{_q(column)} = {value.sql}")
            set_params.extend(value.params)
        else:
            sets.append(f"{_q(column)} = %s")
            set_params.append(_adapt(value))
    if isinstance(session, Session):
        conditions, params = [f"{table}.id = %s"], [session.pk]
    else:
        conditions, params = [f"{table}.code = %s"], [session]
    membership = _q(Membership._meta.db_table)
    conditions.append(
        # Identifiers quoted from the models' meta; every value is a parameter.
        f"EXISTS (SELECT 1 FROM {membership} WHERE {membership}.group_id = {table}.group_id"  # noqa: S608
        f" AND {membership}.user_id = %s)"
    )
    params.append(user.pk)
    if status is not None:
        conditions.append(f"{table}.status = %s")
        params.append(status)
    if steps is not None:
        conditions.append(f"{table}.step IN ({', '.join(['%s'] * len(steps))})")
        params.extend(str(step) for step in steps)
    if set(roles) != set(AUDIENCES):
        conditions.append(f"{_role_sql(table)} IN ({', '.join(['%s'] * len(roles))})")
        params.extend([user.pk, user.pk, *[str(role) for role in roles]])
    for sql, extra in where:
        conditions.append(sql)
        params.extend(_adapt(value) for value in extra)
    group = _q(Group._meta.db_table)
    presence = _q(Presence._meta.db_table)
    columns = ", ".join(f"{table}.{_q(f.column)}" for f in Session._meta.concrete_fields)
    sql = (
        f"UPDATE {table} SET {', '.join(sets)} WHERE {' AND '.join(conditions)}"  # noqa: S608
        f" RETURNING {columns},"
        f" (SELECT {group}.name FROM {group} WHERE {group}.id = {table}.group_id) AS group_name,"
        f" (SELECT {group}.code FROM {group} WHERE {group}.id = {table}.group_id) AS group_code,"
        f" (SELECT {_aggregate(presence + '.language')} FROM {presence}"
        f" WHERE {presence}.session_id = {table}.id) AS languages,"
        f" (SELECT {_aggregate(presence + '.language')} FROM {presence}"
        f" WHERE {presence}.session_id = {table}.id AND {presence}.screen) AS room_languages,"
        f" (SELECT {_aggregate(membership + '.user_id')} FROM {membership}"
        f" WHERE {membership}.group_id = {table}.group_id) AS members"
    )
    params = [*set_params, *params]
    if insert is None:
        row = _first(sql, params)
    elif connection.vendor == "postgresql":
        row = _first(*_with_insert(sql, params, insert))
        if row is not None:
            _saved(insert, row.inserted_pk, row.pk)
    else:
        with transaction.atomic():
            row = _first(sql, params)
            if row is not None:
                insert.session_id = row.pk
                insert.save(force_insert=True)
    if row is None:
        return None
    row.group = Group(pk=row.group_id, name=row.group_name, code=row.group_code)
    languages = {settings.LANGUAGE_CODE, *filter(None, (row.languages or "").split(","))}
    room_languages = set(filter(None, (row.room_languages or "").split(",")))
    members = sorted(int(pk) for pk in str(row.members or "").split(",") if pk)
    return Claimed(session=row, languages=languages, members=members, room_languages=room_languages)


def _first(sql: str, params) -> Session | None:
    rows = list(Session.objects.raw(sql, params))
    return rows[0] if rows else None


def _with_insert(claim_sql: str, claim_params, instance) -> tuple[str, list]:
    """The claim and the INSERT of `instance` as one statement: the row takes
    the claimed session's id, and nothing is inserted when nothing is claimed."""
    model = instance._meta.model
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    session_field = model._meta.get_field("session")
    columns, selects, params = [], [], []
    for field in fields:
        columns.append(_q(field.column))
        if field is session_field:
            selects.append(f"claimed.{_q('id')}")
        else:
            value = field.pre_save(instance, add=True)
            selects.append("%s")
            params.append(field.get_db_prep_save(value, connection))
    pk = _q(model._meta.pk.column)
    # Identifiers from the models' meta, quoted; every value is a parameter.
    sql = (
        f"WITH claimed AS ({claim_sql}),"  # noqa: S608
        f" inserted AS (INSERT INTO {_q(model._meta.db_table)} ({', '.join(columns)})"
        f" SELECT {', '.join(selects)} FROM claimed RETURNING {pk})"
        f" SELECT claimed.*, inserted.{pk} AS inserted_pk FROM claimed, inserted"
    )
    return sql, [*claim_params, *params]


def _saved(instance, pk, session_id) -> None:
    """`instance` as `Model.save()` would have left it."""
    instance.pk = pk
    instance.session_id = session_id
    instance._state.adding = False
    instance._state.db = connection.alias
