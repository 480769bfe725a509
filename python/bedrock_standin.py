"""Stand-in for Bedrock: moves moto's model customization jobs like the real service does.

moto 5.2.5 keeps every model customization job `InProgress` until it is stopped. This module, loaded
only by the emulator launcher (python/moto_server.py), stands in for the Bedrock service so the
local demo and the emulator tests can see a job finish. It is NOT Bedrock and NOT part of the
Lambdas; nothing here trains anything. What it does, per job:

- outcome `complete`: InProgress -> Completed after `seconds`. While InProgress, `statusDetails`
  shows validation -> data processing -> training, one third of `seconds` each. On completion it
  sets `endTime`, fixed stand-in `trainingMetrics`/`validationMetrics`, puts the custom model into
  moto's Bedrock backend (GetCustomModel/ListCustomModels find `outputModelArn`) and writes the
  metrics files Bedrock writes under the job's output S3 URI into moto's S3.
- outcome `fail`: InProgress -> Failed after `seconds`, with `failureMessage`. The sub-task `phase`
  (validation, dataProcessing or training; default validation) shows Failed in `statusDetails` at
  `phaseFailedSeconds` (default `seconds`): from then until `seconds` the job's status is still
  InProgress while its phase has failed. The sub-tasks before it share the time up to then and
  complete; those after it never start.
- outcome `hold`: stays InProgress (moto's own behaviour; the phases progress, training never ends).
- StopModelCustomizationJob: moto's immediate `Stopped` is kept; a stopped job never completes.
  Stopping a job the stand-in already moved to Completed/Failed is refused (ValidationException).
- Every terminal status (Completed/Failed/Stopped) records the EventBridge event Bedrock sends
  ("Model Customization Job State Change", source aws.bedrock) and puts it on moto's default event
  bus of the job's region (moto's events backend put_events), so moto rules/targets see it.

Always, whether enabled or not:
- Every request moto's Bedrock handler receives for an operation of botocore's service model is
  checked against the operation's input shape (shape_check.py: required members, types, unions,
  enums, lengths, ranges, patterns) before moto sees it; a violation is answered as Bedrock does:
  HTTP 400, x-amzn-ErrorType ValidationException, {"message": "N validation errors detected: …"}
  naming each member path. moto's own ARN forms of jobs and custom models (…/<name>, where the real
  ones end in <base model id>/<12-character id>) are exempt from the pattern checks.
- Each CreateModelCustomizationJob request is recorded as received (after parsing), refused ones with
  their message.
- GetFoundationModel (moto 5.2.5 has none) answers for the table FOUNDATION_MODELS;
  ResourceNotFoundException (404) for an id the table does not have.
- customizationConfig, which moto drops, is kept on the job and rendered by GetModelCustomizationJob.

Timing: wall-clock time since the job's creation, evaluated whenever a job is read (Get/List/Stop),
or the events are read (GET /_standin/bedrock/events sweeps every stand-in job first). No thread.

Control (same moto server, paths no AWS API uses):
  POST /_standin/bedrock/config  {"enabled": true, "default": {"outcome": "complete", "seconds": 6},
                                  "jobs": {"<jobName>": {"outcome": "fail", "seconds": 3,
                                           "failureMessage": "...", "phase": "training",
                                           "phaseFailedSeconds": 2}}}   (merged; returns the config)
  GET  /_standin/bedrock/config  the current config
  GET  /_standin/bedrock/events  {"events": [...]} the recorded events, oldest first
  GET  /_standin/bedrock/requests {"requests": [{"time", "region", "request", "error"?}]} the
                                  CreateModelCustomizationJob requests received, oldest first
  POST /_standin/bedrock/reset   config, events and requests back to the start (disabled, none)
POST /moto-api/reset resets the stand-in too.

Limits: the stand-in is disabled by default (moto's behaviour for every job). A job is taken over
when it is created while the stand-in is enabled, or when a per-job entry names it later; jobs are
only advanced while the stand-in is enabled. Taken-over jobs are rendered as the API reference
describes: no `failureMessage` unless Failed, no `endTime` until terminal, no metrics until
Completed (`outputModelArn` is kept: it names the model the job will create). The custom model is
removed from moto at creation and added back on completion (so moto's "model name already
exists" check does not apply to it meanwhile). No `Stopping` status, no real failure detection, the
metrics are fixed numbers, and the ARN keeps moto's job-name form (the real one ends in an id).
"""
from __future__ import annotations

import copy
import json
import re
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import moto.bedrock.models as bedrock_models
from moto.bedrock.exceptions import ValidationException

LABEL = "stand-in for Bedrock"
OUTCOMES = ("complete", "fail", "hold")
TERMINAL = ("Completed", "Failed", "Stopped")
# The sub-tasks of statusDetails, in the order they run (API_StatusDetails), by their plan name.
PHASES = ("validation", "dataProcessing", "training")

# Realistic data-validation style failure (the kind of message Bedrock reports for bad training data).
DEFAULT_FAILURE_MESSAGE = (
    "Data validation failed: Training data at line 1 has invalid format. Each line must be a "
    "JSON object with the fields \"prompt\" and \"completion\". (stand-in for Bedrock)"
)
DEFAULT_SECONDS = 6.0

# Fixed numbers, labelled: nothing is trained.
STANDIN_TRAINING_LOSS = 0.4217
STANDIN_VALIDATION_LOSS = 0.4731

_lock = threading.RLock()
_config: dict[str, Any] = {}
_events: list[dict[str, Any]] = []
# CreateModelCustomizationJob requests as received (after parsing), oldest first.
_requests: list[dict[str, Any]] = []
# id(job) is not stable across resets; plans live on the job object as `_standin`.


def _log(message: str) -> None:
    sys.stderr.write(f"[{LABEL}] {message}\n")
    sys.stderr.flush()


def _initial_config() -> dict[str, Any]:
    return {
        "enabled": False,
        "default": {
            "outcome": "complete",
            "seconds": DEFAULT_SECONDS,
            "failureMessage": DEFAULT_FAILURE_MESSAGE,
            "phase": "validation",
            "phaseFailedSeconds": None,
        },
        "jobs": {},
    }


def reset() -> None:
    """Config back to disabled, recorded events cleared (jobs live in moto and are reset by moto)."""
    with _lock:
        _config.clear()
        _config.update(_initial_config())
        _events.clear()
        _requests.clear()
    _log("reset")


reset()


# ---------------------------------------------------------------------------------------------
# Config


class ConfigError(ValueError):
    pass


def _check_entry(entry: Any, where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be an object")
    unknown = set(entry) - {"outcome", "seconds", "failureMessage", "phase", "phaseFailedSeconds"}
    if unknown:
        raise ConfigError(f"{where} has unknown fields: {sorted(unknown)}")
    out: dict[str, Any] = {}
    if "outcome" in entry:
        if entry["outcome"] not in OUTCOMES:
            raise ConfigError(f"{where}.outcome must be one of {OUTCOMES}")
        out["outcome"] = entry["outcome"]
    if "seconds" in entry:
        seconds = entry["seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ConfigError(f"{where}.seconds must be a number >= 0")
        out["seconds"] = float(seconds)
    if "failureMessage" in entry:
        if not isinstance(entry["failureMessage"], str) or not entry["failureMessage"]:
            raise ConfigError(f"{where}.failureMessage must be a non-empty string")
        out["failureMessage"] = entry["failureMessage"]
    if "phase" in entry:
        if entry["phase"] not in PHASES:
            raise ConfigError(f"{where}.phase must be one of {PHASES}")
        out["phase"] = entry["phase"]
    if "phaseFailedSeconds" in entry:
        seconds = entry["phaseFailedSeconds"]
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0):
            raise ConfigError(f"{where}.phaseFailedSeconds must be a number >= 0 (or null: at `seconds`)")
        out["phaseFailedSeconds"] = None if seconds is None else float(seconds)
    return out


def _check_plan(plan: dict[str, Any], where: str) -> None:
    failed_at = plan.get("phaseFailedSeconds")
    if failed_at is not None and failed_at > plan["seconds"]:
        raise ConfigError(f"{where}.phaseFailedSeconds ({failed_at}) must not be after seconds ({plan['seconds']})")


def configure(body: Any) -> dict[str, Any]:
    """Merges `body` into the config (per-job entries added/replaced) and returns the config."""
    if not isinstance(body, dict):
        raise ConfigError("the body must be a JSON object")
    unknown = set(body) - {"enabled", "default", "jobs"}
    if unknown:
        raise ConfigError(f"unknown fields: {sorted(unknown)}")
    if "enabled" in body and not isinstance(body["enabled"], bool):
        raise ConfigError("enabled must be a boolean")
    default = _check_entry(body["default"], "default") if "default" in body else {}
    jobs_in = body.get("jobs", {})
    if not isinstance(jobs_in, dict):
        raise ConfigError("jobs must be an object keyed by job name")
    jobs = {name: _check_entry(entry, f"jobs.{name}") for name, entry in jobs_in.items()}
    with _lock:
        merged_default = {**_config["default"], **default}
        _check_plan(merged_default, "default")
        for name, entry in {**_config["jobs"], **jobs}.items():
            _check_plan({**merged_default, **entry}, f"jobs.{name}")
        if "enabled" in body:
            _config["enabled"] = body["enabled"]
        _config["default"].update(default)
        _config["jobs"].update(jobs)
        if _config["enabled"]:
            # A per-job entry also applies to a job that already exists (and is not terminal).
            for backend in _bedrock_backends():
                for name in jobs:
                    job = backend.model_customization_jobs.get(name)
                    if job is not None and job.status not in TERMINAL:
                        _take_over(backend, job)
        _log(f"config: {json.dumps(_config)}")
        return copy.deepcopy(_config)


def get_config() -> dict[str, Any]:
    with _lock:
        return copy.deepcopy(_config)


def get_events() -> list[dict[str, Any]]:
    sweep()
    with _lock:
        return copy.deepcopy(_events)


def _plan_for(job_name: str) -> dict[str, Any]:
    plan = dict(_config["default"])
    plan.update(_config["jobs"].get(job_name, {}))
    return plan


# ---------------------------------------------------------------------------------------------
# Jobs


def _bedrock_backends():
    for account in list(bedrock_models.bedrock_backends.values()):
        for backend in list(account.values()):
            yield backend


def _moto_time(epoch: float) -> str:
    # moto's own format (local time; the project runs moto with TZ=UTC); moto_server.py renders it.
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def _rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _take_over(backend: Any, job: Any) -> None:
    """Attaches (or replaces) the job's plan; the first time, renders it as the real service does."""
    plan = _plan_for(job.job_name)
    previous = getattr(job, "_standin", None)
    created = previous["created"] if previous else getattr(job, "_standin_created", time.time())
    job._standin = {**plan, "created": created, "ended": None, "backend": backend, "evented": False}
    if previous is None:
        job.end_time = None
        job.failure_message = None
        job.training_metrics = None
        job.validation_metrics = None
        model = backend.custom_models.pop(job.custom_model_name, None)
        job._standin_model = model
        if model is not None:
            # The real job's outputModelArn is the ARN of the model it creates.
            job.output_model_name = model.model_name
            job.output_model_arn = model.model_arn
    _log(f"takes over job {job.job_name}: outcome {plan['outcome']} after {plan['seconds']} s")


def _advance(job: Any, now: float | None = None) -> None:
    """Moves a taken-over job to the status its plan and the time since creation say."""
    plan = getattr(job, "_standin", None)
    if plan is None or not _config["enabled"]:
        return
    now = time.time() if now is None else now
    if job.status in TERMINAL:
        if plan["ended"] is None:
            plan["ended"] = now  # stopped by moto's StopModelCustomizationJob
            job.end_time = _moto_time(now)
            job.last_modified_time = _moto_time(now)
        _emit(job)
        return
    if plan["outcome"] == "hold" or now - plan["created"] < plan["seconds"]:
        return
    ended = plan["created"] + plan["seconds"]
    plan["ended"] = ended
    job.end_time = _moto_time(ended)
    job.last_modified_time = _moto_time(ended)
    if plan["outcome"] == "complete":
        _complete(job, ended)
    else:
        job.status = "Failed"
        job.failure_message = plan["failureMessage"]
        _log(f"job {job.job_name} Failed: {job.failure_message}")
    _emit(job)


def _complete(job: Any, ended: float) -> None:
    backend = job._standin["backend"]
    job.status = "Completed"
    job.training_metrics = {"trainingLoss": STANDIN_TRAINING_LOSS}
    job.validation_metrics = [{"validationLoss": STANDIN_VALIDATION_LOSS}]
    model = getattr(job, "_standin_model", None)
    if model is not None:
        model.training_metrics = job.training_metrics
        model.validation_metrics = job.validation_metrics
        model.creation_time = _moto_time(ended)
        backend.custom_models[model.model_name] = model
    _write_output_files(job)
    _log(f"job {job.job_name} Completed: custom model {job.output_model_arn}")


def _write_output_files(job: Any) -> None:
    """The metrics files Bedrock writes under the job's output S3 URI, with stand-in numbers.

    Layout and CSV columns as documented in "Analyze the results of a model customization job":
    https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-analyze.html
      <output>/model-customization-job-<job id>/training_artifacts/step_wise_training_metrics.csv
        columns step_number, epoch_number, training_loss, perplexity
      <output>/model-customization-job-<job id>/validation_artifacts/post_fine_tuning_validation/
        validation/validation_metrics.csv   columns step_number, epoch_number, validation_loss, perplexity
    The job id is the last segment of the job ARN (moto's ARN ends in the job name).
    """
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    uri = job.output_data_config.get("s3Uri", "")
    if not uri.startswith("s3://"):
        return
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    base = f"{prefix}model-customization-job-{job.job_arn.rsplit('/', 1)[-1]}/"
    try:
        epochs = max(1, int(str((job.hyper_parameters or {}).get("epochCount", "2"))))
    except ValueError:
        epochs = 2
    training = ["step_number,epoch_number,training_loss,perplexity"]
    step = 0
    for epoch in range(epochs):
        for _ in range(2):
            loss = round(STANDIN_TRAINING_LOSS + 0.8 / (step + 1), 4)
            training.append(f"{step},{epoch},{loss},{round(2.718281828 ** loss, 4)}")
            step += 1
    validation = ["step_number,epoch_number,validation_loss,perplexity"]
    for epoch in range(epochs):
        loss = round(STANDIN_VALIDATION_LOSS + 0.5 / (epoch + 1) - 0.5 / epochs, 4)
        validation.append(f"{(epoch + 1) * 2 - 1},{epoch},{loss},{round(2.718281828 ** loss, 4)}")
    files = {
        f"{base}training_artifacts/step_wise_training_metrics.csv": training,
        f"{base}validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv": validation,
    }
    backend = s3_backends[job.account_id][get_partition(job.region_name)]
    for key, lines in files.items():
        try:
            backend.put_object(bucket, key, ("\n".join(lines) + "\n").encode())
            _log(f"wrote s3://{bucket}/{key}")
        except Exception as error:  # noqa: BLE001 - a missing bucket must not break the job read
            _log(f"could not write s3://{bucket}/{key}: {error!r}")


def _emit(job: Any) -> None:
    """Records the state change event once per terminal job and puts it on moto's default bus."""
    plan = job._standin
    if plan["evented"]:
        return
    plan["evented"] = True
    ended = plan["ended"]
    detail: dict[str, Any] = {
        "version": "0.0",
        "jobName": job.job_name,
        "jobArn": job.job_arn,
        "outputModelName": job.output_model_name,
        "outputModelArn": job.output_model_arn,
        "roleArn": job.role_arn,
        "jobStatus": job.status,
    }
    if job.status == "Failed":
        detail["failureMessage"] = job.failure_message
    detail.update(
        {
            "creationTime": _rfc3339(plan["created"]),
            "lastModifiedTime": _rfc3339(ended),
            "endTime": _rfc3339(ended),
            "baseModelArn": job.base_model_arn,
            "hyperParameters": job.hyper_parameters or {},
            # As the job was given it: {"s3Uri"} (the documented sample), or {"invocationLogsConfig"}.
            "trainingDataConfig": dict(job.training_data_config),
        }
    )
    validators = (job.validation_data_config or {}).get("validators") or []
    if validators:
        # The documented event carries one validation S3 URI, not the API's validators list.
        detail["validationDataConfig"] = {"s3Uri": validators[0].get("s3Uri")}
    detail["outputDataConfig"] = {"s3Uri": job.output_data_config.get("s3Uri")}
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Model Customization Job State Change",
        "source": "aws.bedrock",
        "account": job.account_id,
        "time": _rfc3339(ended),
        "region": job.region_name,
        "resources": [job.job_arn],
        "detail": detail,
    }
    try:
        from moto.events.models import events_backends

        entries = events_backends[job.account_id][job.region_name].put_events(
            [
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(detail),
                    "Resources": event["resources"],
                    "Time": event["time"],
                }
            ]
        )
        if entries and entries[0].get("EventId"):
            event["id"] = entries[0]["EventId"]
    except Exception as error:  # noqa: BLE001 - recording must not depend on the events backend
        _log(f"could not put the event on moto's default event bus: {error!r}")
    _events.append(event)
    _log(f"event: job {job.job_name} {job.status}")


def sweep() -> None:
    """Advances every taken-over job (called before the events are read)."""
    with _lock:
        if not _config["enabled"]:
            return
        for backend in _bedrock_backends():
            for job in list(backend.model_customization_jobs.values()):
                _advance(job)


def _status_details(job: Any) -> dict[str, Any]:
    """statusDetails (API_StatusDetails / API_ValidationDetails / API_DataProcessingDetails /
    API_TrainingDetails: status NotStarted | InProgress | Completed | Stopping | Stopped | Failed,
    creationTime, lastModifiedTime), see
    https://docs.aws.amazon.com/bedrock/latest/APIReference/API_StatusDetails.html

    `complete`/`hold`: one third of `seconds` per sub-task. `fail`: the sub-tasks up to the plan's
    `phase` share the time up to `phaseFailedSeconds` (default `seconds`); at that time the phase
    shows Failed while the job stays InProgress until `seconds`; later sub-tasks never start."""
    plan = job._standin
    created, seconds = plan["created"], plan["seconds"]
    now = plan["ended"] if plan["ended"] is not None else time.time()
    failing = PHASES.index(plan.get("phase") or "validation") if plan["outcome"] == "fail" else None
    if failing is not None:
        failed_at = created + (seconds if plan.get("phaseFailedSeconds") is None else plan["phaseFailedSeconds"])
        share = (failed_at - created) / (failing + 1)
        spans = [(created + i * share, created + (i + 1) * share) if i <= failing else None for i in range(3)]
    else:
        third = seconds / 3
        spans = [(created + i * third, created + (i + 1) * third) for i in range(3)]
    # The sub-task running at `now` (the last one started); earlier ones are Completed.
    active = max(i for i, span in enumerate(spans) if span is not None and (span[0] <= now or i == 0))
    out: dict[str, Any] = {}
    for i, (phase, span) in enumerate(zip(PHASES, spans)):
        key = f"{phase}Details"
        if span is None or i > active:
            out[key] = {"status": "NotStarted", "creationTime": _rfc3339(created), "lastModifiedTime": _rfc3339(created)}
            continue
        start, end = span
        if i == failing and now >= end:
            status, modified = "Failed", end
        elif i < active or job.status == "Completed":
            status, modified = "Completed", end
        elif job.status in ("Failed", "Stopped"):
            status, modified = job.status, now
        elif now >= end and plan["outcome"] == "complete":
            status, modified = "Completed", end
        else:
            status, modified = "InProgress", now
        out[key] = {"status": status, "creationTime": _rfc3339(start), "lastModifiedTime": _rfc3339(modified)}
    return out


# ---------------------------------------------------------------------------------------------
# Patches to moto's Bedrock backend and model


def _patch_backend() -> None:
    backend_cls = bedrock_models.BedrockBackend
    create, get, stop, list_jobs = (
        backend_cls.create_model_customization_job,
        backend_cls.get_model_customization_job,
        backend_cls.stop_model_customization_job,
        backend_cls.list_model_customization_jobs,
    )

    def create_model_customization_job(self, *args, **kwargs):
        created = time.time()
        arn = create(self, *args, **kwargs)
        job = self.model_customization_jobs[arn.rsplit("/", 1)[-1]]
        job._standin_created = created
        with _lock:
            if _config["enabled"]:
                _take_over(self, job)
        return arn

    def get_model_customization_job(self, job_identifier):
        job = get(self, job_identifier)
        with _lock:
            _advance(job)
        return job

    def stop_model_customization_job(self, job_identifier):
        job = get(self, job_identifier)
        with _lock:
            _advance(job)
            if getattr(job, "_standin", None) is not None and _config["enabled"] and job.status in ("Completed", "Failed"):
                raise ValidationException(f"Model customization job {job.job_name} is already {job.status}.")
            stop(self, job_identifier)
            _advance(job)
        return None

    def list_model_customization_jobs(self, *args, **kwargs):
        with _lock:
            for job in list(self.model_customization_jobs.values()):
                _advance(job)
        return list_jobs(self, *args, **kwargs)

    backend_cls.create_model_customization_job = create_model_customization_job
    backend_cls.get_model_customization_job = get_model_customization_job
    backend_cls.stop_model_customization_job = stop_model_customization_job
    backend_cls.list_model_customization_jobs = list_model_customization_jobs


def _patch_to_dict() -> None:
    job_cls = bedrock_models.ModelCustomizationJob
    original = job_cls.to_dict

    def to_dict(self):
        out = original(self)
        if getattr(self, "customization_config", None) is not None:
            out["customizationConfig"] = copy.deepcopy(self.customization_config)
        if getattr(self, "_standin", None) is not None:
            with _lock:
                out["statusDetails"] = _status_details(self)
        return out

    job_cls.to_dict = to_dict


# ---------------------------------------------------------------------------------------------
# Requests: checked against botocore's service model; GetFoundationModel; customizationConfig kept

# The service model of the botocore in this environment, read with botocore's loader
# (botocore/data/bedrock/2023-04-20/service-2.json).
_service_model: Any = None


def service_model() -> Any:
    global _service_model
    if _service_model is None:
        import botocore.session

        _service_model = botocore.session.get_session().get_service_model("bedrock")
    return _service_model


def _operation(name: str | None) -> Any:
    if not name:
        return None
    model = service_model()
    return model.operation_model(name) if name in model.operation_names else None


# moto's ARNs of jobs and custom models end in their name (…:model-customization-job/<job name>,
# …:custom-model/<model name>); the real ones end in <base model id>/<12-character id>, the form the
# model's patterns take (ModelCustomizationJobIdentifier, ModelIdentifier, TaggableResourcesArn …). A
# string of moto's form (the name in the characters JobName and CustomModelName allow) is not checked
# against a pattern (its other constraints are).
MOTO_ARN = re.compile(r"arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:(model-customization-job|custom-model)/[a-zA-Z0-9][-a-zA-Z0-9+._]{0,62}")


def _moto_arn(value: str) -> bool:
    return MOTO_ARN.fullmatch(value) is not None


def _error(status: int, code: str, message: str, headers: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
    """An error as a restJson AWS service answers: the code in x-amzn-ErrorType, {"message"} as body."""
    return status, {**headers, "x-amzn-ErrorType": code, "content-type": "application/json"}, json.dumps({"message": message})


def get_requests() -> list[dict[str, Any]]:
    with _lock:
        return copy.deepcopy(_requests)


# Foundation models GetFoundationModel answers for (moto 5.2.5 does not serve the operation). Shapes per
# botocore's FoundationModelDetails; each entry is checked against that shape when the stand-in is
# installed. The optional modelName and responseStreamingSupported are left out (not needed, not sourced).
# Sources:
# - model ids, providers and modalities: "Supported foundation models in Amazon Bedrock",
#   https://docs.aws.amazon.com/bedrock/latest/userguide/models-supported.html and
#   https://docs.aws.amazon.com/bedrock/latest/userguide/model-ids.html
# - customizations: "Supported models and Regions for fine-tuning and continued pre-training",
#   https://docs.aws.amazon.com/bedrock/latest/userguide/custom-model-supported.html (the customizable
#   model ids carry the context length: amazon.nova-pro-v1:0:300k, amazon.titan-text-express-v1:0:8k …),
#   and "Customizing Amazon Nova models", https://docs.aws.amazon.com/nova/latest/userguide/customization.html
#   (Bedrock distillation: Nova Pro teacher and student, Nova Lite and Micro students).
#   The on-demand ids (model-ids.html; what a distillation job names as teacher) are served without
#   customizations and for ON_DEMAND inference, the customizable ids (custom-model-supported.html) with
#   their customizations and for PROVISIONED inference (how a custom model is served): the stand-in's
#   choice, as the docs do not say which customizations GetFoundationModel lists for an on-demand id.
# - modelLifecycle: ACTIVE for every entry; the stand-in does not model Legacy models (the status of
#   each: "Model lifecycle", https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html).
# FoundationModelDetails' customizationsSupported enum (ModelCustomization) has no
# REINFORCEMENT_FINE_TUNING: the API does not say which models take RFT.
# The stand-in serves the same table in every region (it does not model regional availability).
def _model(model_id: str, provider: str, inputs: list[str], customizations: list[str], inference: list[str]) -> dict[str, Any]:
    return {
        "modelId": model_id,
        "providerName": provider,
        "inputModalities": inputs,
        "outputModalities": ["TEXT"],
        "customizationsSupported": customizations,
        "inferenceTypesSupported": inference,
        "modelLifecycle": {"status": "ACTIVE"},
    }


FOUNDATION_MODELS: dict[str, dict[str, Any]] = {
    m["modelId"]: m
    for m in (
        _model("amazon.nova-pro-v1:0", "Amazon", ["TEXT", "IMAGE"], [], ["ON_DEMAND"]),
        _model("amazon.nova-pro-v1:0:300k", "Amazon", ["TEXT", "IMAGE"], ["FINE_TUNING", "DISTILLATION"], ["PROVISIONED"]),
        _model("amazon.nova-lite-v1:0", "Amazon", ["TEXT", "IMAGE"], [], ["ON_DEMAND"]),
        _model("amazon.nova-lite-v1:0:300k", "Amazon", ["TEXT", "IMAGE"], ["FINE_TUNING", "DISTILLATION"], ["PROVISIONED"]),
        _model("amazon.nova-micro-v1:0", "Amazon", ["TEXT"], [], ["ON_DEMAND"]),
        _model("amazon.nova-micro-v1:0:128k", "Amazon", ["TEXT"], ["FINE_TUNING", "DISTILLATION"], ["PROVISIONED"]),
        _model("anthropic.claude-3-5-sonnet-20241022-v2:0", "Anthropic", ["TEXT", "IMAGE"], [], ["ON_DEMAND"]),
        _model("meta.llama3-1-70b-instruct-v1:0", "Meta", ["TEXT"], [], ["ON_DEMAND"]),
        _model("meta.llama3-1-70b-instruct-v1:0:128k", "Meta", ["TEXT"], ["FINE_TUNING"], ["PROVISIONED"]),
        _model("meta.llama3-1-8b-instruct-v1:0", "Meta", ["TEXT"], [], ["ON_DEMAND"]),
        _model("meta.llama3-1-8b-instruct-v1:0:128k", "Meta", ["TEXT"], ["FINE_TUNING"], ["PROVISIONED"]),
        _model("amazon.titan-text-express-v1", "Amazon", ["TEXT"], [], ["ON_DEMAND"]),
        _model("amazon.titan-text-express-v1:0:8k", "Amazon", ["TEXT"], ["FINE_TUNING", "CONTINUED_PRE_TRAINING"], ["PROVISIONED"]),
    )
}


def _check_foundation_models() -> None:
    """Each table entry (with its ARN) fits FoundationModelDetails of the service model."""
    import shape_check

    shape = service_model().shape_for("FoundationModelDetails")
    for model_id, details in FOUNDATION_MODELS.items():
        errors = shape_check.check({**details, "modelArn": _foundation_model_arn("us-east-1", model_id)}, shape)
        if errors:
            raise AssertionError(f"{LABEL}: foundation model table entry {model_id}: {shape_check.message(errors)}")


def _foundation_model_arn(region: str, model_id: str) -> str:
    from moto.utilities.utils import get_partition

    return f"arn:{get_partition(region)}:bedrock:{region}::foundation-model/{model_id}"


def _get_foundation_model(region: str, identifier: str, headers: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
    """GetFoundationModel (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetFoundationModel.html):
    the model by id or by its ARN in this region; ResourceNotFoundException (404) for one the table
    does not have (the identifier's form was already checked: ValidationException)."""
    model_id = identifier.split("::foundation-model/", 1)[1] if identifier.startswith("arn:") else identifier
    details = FOUNDATION_MODELS.get(model_id)
    if details is None or (identifier.startswith("arn:") and identifier != _foundation_model_arn(region, model_id)):
        return _error(
            404,
            "ResourceNotFoundException",
            "The specified resource Amazon Resource Name (ARN) was not found. Check the Amazon Resource Name (ARN) "
            f"and try your request again. ({LABEL}: no foundation model {identifier})",
            headers,
        )
    body = {"modelDetails": {"modelArn": _foundation_model_arn(region, model_id), **copy.deepcopy(details)}}
    return 200, {**headers, "content-type": "application/json"}, json.dumps(body)


def _patch_requests() -> None:
    """Every request moto's Bedrock handler receives is checked against its operation's input shape first."""
    from urllib.parse import parse_qs, unquote, urlparse

    from moto.bedrock.responses import BedrockResponse

    import shape_check

    original = BedrockResponse.call_action

    def call_action(self):
        name = self._get_action()  # moto's router (botocore's model): the operation, and self.uri_match
        operation = _operation(name)
        if operation is None:
            return original(self)
        headers = dict(self.response_headers)
        try:
            params = shape_check.request_params(
                operation,
                self.raw_body,
                {key: unquote(value) for key, value in (self.uri_match or {}).items()},
                parse_qs(urlparse(self.uri).query, keep_blank_values=True),
                {key.lower(): value for key, value in self.headers.items()},
            )
            errors = shape_check.check(params, operation.input_shape, pattern_exempt=_moto_arn)
        except shape_check.RequestError as error:
            params, errors = None, [str(error)]
        if name == "CreateModelCustomizationJob":
            record: dict[str, Any] = {"time": _rfc3339(time.time()), "region": self.region, "request": params}
            if errors:
                record["error"] = shape_check.message(errors)
            with _lock:
                _requests.append(record)
        if errors:
            _log(f"{name} refused: {shape_check.message(errors)}")
            return _error(400, "ValidationException", shape_check.message(errors), headers)
        if name == "GetFoundationModel":
            return _get_foundation_model(self.region, params["modelIdentifier"], headers)
        response = original(self)
        if name == "CreateModelCustomizationJob" and "customizationConfig" in params:
            job = self.bedrock_backend.model_customization_jobs.get(params["jobName"])
            if job is not None:
                job.customization_config = copy.deepcopy(params["customizationConfig"])
        return response

    BedrockResponse.call_action = call_action


def _patch_moto_reset() -> None:
    from moto.moto_api._internal.models import MotoAPIBackend

    original = MotoAPIBackend.reset

    def reset_with_standin(self):
        original(self)
        reset()

    MotoAPIBackend.reset = reset_with_standin


# ---------------------------------------------------------------------------------------------
# WSGI control routes

PREFIX = "/_standin/bedrock/"


class ControlRoutes:
    """Serves /_standin/bedrock/* and hands every other request to moto's app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "app":
            object.__setattr__(self, name, value)
        else:
            setattr(self.app, name, value)  # e.g. moto.server.main's `main_app.debug = True`

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self.app(environ, start_response)
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        route = (request.method, path[len(PREFIX):].rstrip("/"))
        status, body = 200, None
        try:
            if route == ("GET", "config"):
                body = get_config()
            elif route == ("POST", "config"):
                body = configure(json.loads(request.get_data(as_text=True) or "{}"))
            elif route == ("GET", "events"):
                body = {"events": get_events()}
            elif route == ("GET", "requests"):
                body = {"requests": get_requests()}
            elif route == ("POST", "reset"):
                reset()
                body = get_config()
            else:
                status, body = 404, {"message": f"{LABEL}: no route {request.method} {path}"}
        except (ConfigError, json.JSONDecodeError) as error:
            status, body = 400, {"message": f"{LABEL}: {error}"}
        return Response(json.dumps(body), status=status, mimetype="application/json")(environ, start_response)


def install() -> None:
    """Applies the patches and wraps the app moto.server.main builds with the control routes."""
    import moto.server

    _patch_backend()
    _patch_to_dict()
    _patch_moto_reset()
    _patch_requests()
    _check_foundation_models()
    dispatcher = moto.server.DomainDispatcherApplication
    moto.server.DomainDispatcherApplication = lambda create_app: ControlRoutes(dispatcher(create_app))
