"""Evaluators publish assessments over HTTP."""

from fastapi import APIRouter, Request

from tindaklanjut.api import models
from tindaklanjut.api.deps import ContainerDep, EvaluatorActor, dispatch
from tindaklanjut.api.errors import ERRORS, ApiError
from tindaklanjut.service_layer.commands import PublishAssessment
from tindaklanjut.ports.validation import Rejected

router = APIRouter(prefix="/api/v1/assessments", tags=["evaluator"])


@router.post("", status_code=202, response_model=models.AcceptedOut, responses=ERRORS,
             summary="Publikasikan hasil penilaian (CloudEvent assessment.published)")
async def publish_assessment(request: Request, container: ContainerDep, _current: EvaluatorActor) -> models.AcceptedOut:
    try:
        message = await dispatch(container, PublishAssessment(raw=await request.body()))
    except Rejected as rejected:
        raise ApiError(400, rejected.code, rejected.message) from None
    return models.AcceptedOut(accepted=True, topic=message.topic, key=message.key)
