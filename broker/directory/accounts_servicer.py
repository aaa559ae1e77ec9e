"""tongdao.v1.Accounts: protobuf → account service → protobuf, nothing more."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.directory.access import session_token
from tongdao.broker.directory.accounts import AccountService, LoginResult, aware
from tongdao.broker.directory.models import Account
from tongdao.broker.kernel.actor import current_actor
from tongdao.broker.kernel.paging import next_token
from tongdao.broker.kernel.wire import ContextServicer, iso
from tongdao.policies.i18n import msg
from tongdao.proto.errors import Unauthenticated
from tongdao.v1 import accounts_pb2, accounts_pb2_grpc


def account_pb(a: Account) -> accounts_pb2.Account:
    return accounts_pb2.Account(
        username=a.username,
        party=a.party,
        role=a.role,
        display_name=a.display_name,
        disabled=a.disabled,
        totp_enabled=a.totp_enabled,
        password_changed_at=iso(aware(a.password_changed_at)),
        must_change_password=a.must_change_password,
        locked_until=iso(aware(a.locked_until) if a.locked_until else None),
    )


class AccountsServicer(accounts_pb2_grpc.AccountsServicer, ContextServicer):
    """Implements tongdao.v1.Accounts on :class:`AccountService`."""

    def __init__(self, service: AccountService, sessions: sessionmaker[Session]) -> None:
        self.service = service
        self.sessions = sessions

    @staticmethod
    def _actor():  # type: ignore[no-untyped-def]
        actor = current_actor()
        if actor is None:
            raise Unauthenticated(msg("no resolved caller"))
        return actor

    def CreateAccount(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            return account_pb(
                self.service.create_account(
                    session,
                    caller,
                    username=request.username,
                    party=request.party,
                    role=request.role,
                    display_name=request.display_name,
                    initial_password=request.initial_password,
                )
            )

    def DisableAccount(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            return account_pb(self.service.disable_account(session, caller, request.username))

    def ListAccounts(self, request, context):  # type: ignore[no-untyped-def]
        self._caller(context)
        page = self.service.page("accounts", request.page_size, request.page_token)
        with self.sessions.begin() as session:
            rows = self.service.list_accounts(session, page)
            return accounts_pb2.ListAccountsResponse(
                accounts=[account_pb(a) for a in rows], next_page_token=next_token(rows)
            )

    def Login(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            outcome = self.service.login(
                session, caller, request.username, request.password, request.totp_code
            )
            reply = None
            if outcome.refusal is None:
                result = outcome.value
                assert isinstance(result, LoginResult)
                reply = accounts_pb2.LoginResponse(
                    session_token=result.token,
                    expires_at=iso(result.expires_at),
                    account=account_pb(result.account),
                )
        outcome.unwrap()  # after the commit: the failure and any lockout stay in the ledger
        return reply

    def Logout(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            ended = self.service.logout(session, caller, session_token(context))
        return accounts_pb2.LogoutResponse(ended=ended)

    def SetPassword(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            outcome = self.service.set_password(
                session, caller, request.username, request.current_password, request.new_password
            )
            reply = None
            if outcome.refusal is None:
                assert isinstance(outcome.value, Account)
                reply = account_pb(outcome.value)
        outcome.unwrap()
        return reply

    def EnrolTotp(self, request, context):  # type: ignore[no-untyped-def]
        actor = self._actor()
        with self.sessions.begin() as session:
            secret, uri = self.service.enrol_totp(session, actor)
        return accounts_pb2.TotpEnrolment(secret=secret, provisioning_uri=uri)

    def ConfirmTotp(self, request, context):  # type: ignore[no-untyped-def]
        actor = self._actor()
        with self.sessions.begin() as session:
            return account_pb(self.service.confirm_totp(session, actor, request.code))

    def WhoAmI(self, request, context):  # type: ignore[no-untyped-def]
        actor = self._actor()
        expires = ""
        token = session_token(context)
        if token:
            with self.sessions.begin() as session:
                expires = iso(self.service.session_expiry(session, token))
        return accounts_pb2.Identity(
            party=actor.party,
            person=actor.person,
            roles=list(actor.roles),
            session_expires_at=expires,
        )
