"""tongdao.v1.Directory: protobuf → directory service → protobuf, nothing more."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.directory.models import Department
from tongdao.broker.directory.service import DepartmentData, DirectoryService
from tongdao.broker.kernel.paging import next_token
from tongdao.broker.kernel.wire import ContextServicer
from tongdao.proto.errors import DomainError
from tongdao.v1 import (
    directory_pb2,
    directory_pb2_grpc,
)


def department_pb(dept: Department) -> directory_pb2.Department:
    return directory_pb2.Department(
        code=dept.code,
        name=dept.name,
        region=dept.region,
        level=dept.level,
        node_endpoint=dept.node_endpoint,
        encryption_public_key=dept.encryption_public_key,
        signing_public_key=dept.signing_public_key,
        is_authority=dept.is_authority,
    )


class DirectoryServicer(directory_pb2_grpc.DirectoryServicer, ContextServicer):
    """Implements tongdao.v1.Directory on :class:`DirectoryService`."""

    def __init__(self, service: DirectoryService, sessions: sessionmaker[Session]) -> None:
        self.service = service
        self.sessions = sessions

    def RegisterDepartment(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        d = request.department
        data = DepartmentData(
            code=d.code,
            name=d.name,
            region=d.region,
            level=d.level,
            node_endpoint=d.node_endpoint,
            encryption_public_key=d.encryption_public_key,
            signing_public_key=d.signing_public_key,
            is_authority=d.is_authority,
        )
        try:
            with self.sessions.begin() as session:
                dept = self.service.register_certified_department(
                    session, caller, request.certificate_pem, data
                )
                return department_pb(dept)
        except DomainError as exc:
            # the refusal is on the record too (its own transaction: the attempt rolled back)
            with self.sessions.begin() as session:
                self.service.record_refused_registration(session, caller, d.code, exc)
            exc.recorded_in_ledger = True  # type: ignore[attr-defined]  # not twice
            raise

    def GetDepartment(self, request, context):  # type: ignore[no-untyped-def]
        self._caller(context)
        with self.sessions.begin() as session:
            return department_pb(self.service.get_department(session, request.code))

    def ListDepartments(self, request, context):  # type: ignore[no-untyped-def]
        self._caller(context)
        page = self.service.page("departments", request.page_size, request.page_token)
        with self.sessions.begin() as session:
            depts = self.service.list_departments(session, page)
            return directory_pb2.ListDepartmentsResponse(
                departments=[department_pb(d) for d in depts],
                next_page_token=next_token(depts),
            )
