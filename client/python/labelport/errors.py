"""The one error type of the labelport client."""

from __future__ import annotations

from typing import Optional

import grpc

__all__ = ["LabelportError"]


class LabelportError(Exception):
    """A failed labelport call.

    Attributes:
        code: the gRPC status code (`grpc.StatusCode`).
        message: the server's message (FiftyOne's wording where it applies).
        field_violations: `[(field, description)]` from `google.rpc.BadRequest`.
        reason: the `google.rpc.ErrorInfo` reason (e.g. "INVALID_RUN_KEY"), or None.
        domain: the `google.rpc.ErrorInfo` domain, or None.
        metadata: the `google.rpc.ErrorInfo` metadata.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        field_violations: Optional[list] = None,
        reason: Optional[str] = None,
        domain: Optional[str] = None,
        metadata: Optional[dict] = None,
    ) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.field_violations = list(field_violations or [])
        self.reason = reason
        self.domain = domain
        self.metadata = dict(metadata or {})

    @property
    def field(self) -> Optional[str]:
        """The first violated field, when the server named one."""
        return self.field_violations[0][0] if self.field_violations else None

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> LabelportError:
        """Reads the status code, message and google.rpc details of a failed call."""
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        message = error.details() if hasattr(error, "details") else str(error)
        violations: list = []
        reason = domain = None
        metadata: dict = {}
        try:
            from google.rpc import error_details_pb2
            from grpc_status import rpc_status

            status = rpc_status.from_call(error)
        except Exception:  # noqa: BLE001 - details are best effort; the code is what matters
            status = None
        if status is not None:
            for detail in status.details:
                if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad_request = error_details_pb2.BadRequest()
                    detail.Unpack(bad_request)
                    violations.extend(
                        (v.field, v.description) for v in bad_request.field_violations
                    )
                elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR) and reason is None:
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
        return cls(code or grpc.StatusCode.UNKNOWN, message or "", violations, reason, domain,
                   metadata)
