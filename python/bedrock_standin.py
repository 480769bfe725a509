"""Stand-in for Bedrock: moves moto's model customization jobs like the real service does, and serves
custom model deployments, evaluation jobs and bedrock-runtime Converse, which moto does not.

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
- Each Create* request (CreateModelCustomizationJob, CreateCustomModelDeployment, CreateEvaluationJob,
  CreateProvisionedModelThroughput, …) is recorded as received (after parsing) with its `operation`,
  refused ones with their message.
- GetFoundationModel (moto 5.2.5 has none) answers for the table FOUNDATION_MODELS;
  ResourceNotFoundException (404) for an id the table does not have.
- customizationConfig, which moto drops, is kept on the job and rendered by GetModelCustomizationJob.

Timing: wall-clock time since the job's creation, evaluated whenever a job is read (Get/List/Stop),
or the events are read (GET /_standin/bedrock/events sweeps every stand-in job first). No thread.

Served by the stand-in itself (moto 5.2.5 has none of them), whether or not it is enabled; requests
and answers in the shapes of botocore's models (bedrock 2023-04-20, bedrock-runtime 2023-09-30):
- Custom model deployments (CreateCustomModelDeployment 202 / GetCustomModelDeployment by ARN or name /
  DeleteCustomModelDeployment / ListCustomModelDeployments with nameContains, statusEquals,
  modelArnEquals, createdBefore/After, sortOrder (default Descending), maxResults and nextToken (the
  stand-in's token: an offset)). ARN …:custom-model-deployment/<12 [a-z0-9]>. Creating -> Active
  (`deployment.outcome` active) or Failed with failureMessage (fail) `deployment.seconds` after creation.
  The model must be in moto's backend (else ResourceNotFoundException) and Active, read here as "a
  model a completed stand-in job created" (else ValidationException). Idempotent on
  clientRequestToken (the same token returns the same ARN, whatever the other members); a second
  deployment of the same name: ValidationException naming modelDeploymentName (the API lists no
  ConflictException for the operation). Delete is immediate, also while Creating (not documented).
- Evaluation jobs (CreateEvaluationJob 202 / GetEvaluationJob / StopEvaluationJob, by ARN
  …:evaluation-job/<12 [a-z0-9]>, the only form the API's EvaluationJobIdentifier pattern takes;
  ListEvaluationJobs with nameContains, statusEquals, applicationTypeEquals, creationTimeAfter/Before,
  sortOrder (default Descending), maxResults and nextToken, the way to find a job by its name).
  Served: automated model evaluation jobs with one model (EvaluationInferenceConfig: "For automated
  model evaluation jobs, only a single model is supported"), custom prompt datasets (datasetLocation),
  the model a `precomputedInferenceSource` (your own inference responses, "BYOI") or a `bedrockModel`
  the stand-in answers for (as Converse does). Refused with ValidationException naming the member:
  human and RAG jobs, built-in datasets, judge metrics without evaluatorModelConfig, and (the
  stand-in's reading of model-evaluation-prompt-datasets-judge.html#…-byoir, where BYOI is documented
  for judge jobs) BYOI without an evaluator model. A second job of the same name: ConflictException.
  Idempotent on clientRequestToken. InProgress -> Completed (`evaluation.outcome` complete) or Failed
  with failureMessages [failureMessage] (fail) `evaluation.seconds` after creation; StopEvaluationJob:
  InProgress -> Stopping -> Stopped `evaluation.stoppingSeconds` later; stopping a job in any other
  status: ValidationException (the stand-in's choice among the two the API lists). On completion it
  reads each dataset from moto's S3 and writes, where "Amazon S3 output of a model evaluation job"
  (https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-report-s3.html) puts it:
    <outputDataConfig.s3Uri>/<job name>/<job id>/models/<inferenceSourceIdentifier or modelIdentifier>/
      taskTypes/<taskType>/datasets/<dataset name>/<uuid4>_output.jsonl
  (the job id: the 12 characters ending the job's ARN, the stand-in's reading of "job-uuid"), one line
  per record: {"automatedEvaluationResult": {"scores": [{"metricName", "result"}]}, "inputRecord": <the
  line without modelResponses>, "modelResponses": [{"response", "modelIdentifier"}]}.
  The scores come from the STAND-IN JUDGE, not Bedrock's: token-overlap F1 of the response against the
  record's referenceResponse (tokens: lower-cased runs of [a-z0-9], each counted at most as often as both
  texts have it), the same for every metric; `result` null when the record has no referenceResponse;
  0.0 for the lower-is-better metrics (LOWER_IS_BETTER). The job fails (failureMessages naming the
  dataset and line number, never its content) when a dataset cannot be read, has 0 or more than 1000
  prompts, has a line that is not a JSON object with a string prompt, or, BYOI (the stand-in's reading of
  the BYOI rule), a line whose modelResponses is not exactly one {response, modelIdentifier} naming the
  job's inferenceSourceIdentifier; or when the output cannot be written.
- bedrock-runtime Converse: the SDK signs it with service name `bedrock`; moto's dispatcher hands the
  path POST /model/{modelId}/converse to moto's bedrock-runtime handler, where Converse is checked
  against bedrock-runtime's ConverseRequest and answered (other bedrock-runtime operations stay moto's): output.message {role assistant,
  content [{text}]}, stopReason end_turn (max_tokens when cut to inferenceConfig.maxTokens), usage with
  tokens = ceil(chars / 4) (input: every text of system and messages), metrics.latencyMs. modelId: a
  deployment ARN (unknown or deleted: ResourceNotFoundException; Creating: ModelNotReadyException, which
  the SDKs retry; Failed: ValidationException) or a FOUNDATION_MODELS id/ARN served ON_DEMAND (else
  ValidationException). The text: `models` config `reference` -> the referenceResponse of the record of
  `evaluationDataset` (read from moto's S3, re-read when its ETag changes) whose prompt is exactly the
  text of the last user message (its text blocks joined by newlines); `fixed` (or no such record) ->
  FIXED_ANSWER. Default: deployments `reference`, base models `fixed`.
- CreateProvisionedModelThroughput: recorded, then refused with ValidationException (the stand-in never
  serves Provisioned Throughput), so a test can prove from the records whether one was ever sent.
- TagResource / UntagResource / ListTagsForResource (moto's) also find deployments and evaluation jobs
  (their create-time tags are kept); moto's custom model ARNs work as they do in moto.

Control (same moto server, paths no AWS API uses):
  POST /_standin/bedrock/config  {"enabled": true, "default": {"outcome": "complete", "seconds": 6},
                                  "jobs": {"<jobName>": {"outcome": "fail", "seconds": 3,
                                           "failureMessage": "...", "phase": "training",
                                           "phaseFailedSeconds": 2}},
                                  "deployment": {"outcome": "active"|"fail", "seconds": 2,
                                                 "failureMessage": "...", "quota": null|<n>},
                                  "deployments": {"<deployment name>": {...as deployment}},
                                  "evaluation": {"outcome": "complete"|"fail", "seconds": 3,
                                                 "failureMessage": "...", "stoppingSeconds": 1,
                                                 "quota": null|<n>},
                                  "evaluations": {"<evaluation job name>": {...as evaluation}},
                                  "models": {"deployment"|"base"|"<model id, deployment ARN or name>":
                                             {"answers": "reference"|"fixed"}},
                                  "evaluationDataset": "s3://<bucket>/<key>.jsonl"|null}
                                  (merged; returns the config). `quota`: the most deployments (evaluation
                                  jobs InProgress/Stopping) per account and Region, more is answered
                                  ServiceQuotaExceededException; null: none.
  GET  /_standin/bedrock/config  the current config
  GET  /_standin/bedrock/events  {"events": [...]} the recorded events, oldest first
  GET  /_standin/bedrock/requests[?operation=<name>…]  {"requests": [{"time", "region", "operation",
                                  "request", "error"?}]} the Create* requests received, oldest first
  POST /_standin/bedrock/reset   config, events, requests, deployments and evaluation jobs back to the
                                  start (disabled, none)
POST /moto-api/reset resets the stand-in too.

Limits: the stand-in is disabled by default (moto's behaviour for every job). A job is taken over
when it is created while the stand-in is enabled, or when a per-job entry names it later; jobs are
only advanced while the stand-in is enabled. Taken-over jobs are rendered as the API reference
describes: no `failureMessage` unless Failed, no `endTime` until terminal, no metrics until
Completed (`outputModelArn` is kept: it names the model the job will create). The custom model is
removed from moto at creation and added back on completion (so moto's "model name already
exists" check does not apply to it meanwhile). No `Stopping` status, no real failure detection, the
metrics are fixed numbers, and the ARN keeps moto's job-name form (the real one ends in an id).
Deployments and evaluation jobs: no UpdateCustomModelDeployment or BatchDeleteEvaluationJob; no check of the on-demand support table (model, Region, customization date) or
of the evaluation job's role and S3 permissions; the same-token-other-parameters case is not refused;
the judge is the token F1 above, not a model; scores are not aggregated anywhere (Bedrock shows
aggregates in its console only). The custom model's ARN keeps moto's form (…:custom-model/<name>).
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

# Custom model deployments, evaluation jobs, Converse (served by the stand-in: moto 5.2.5 has none).
DEPLOYMENT_OUTCOMES = ("active", "fail")
EVALUATION_OUTCOMES = ("complete", "fail")
ANSWER_MODES = ("reference", "fixed")
DEFAULT_DEPLOYMENT_SECONDS = 2.0
DEFAULT_EVALUATION_SECONDS = 3.0
DEFAULT_STOPPING_SECONDS = 1.0
DEFAULT_DEPLOYMENT_FAILURE = f"The custom model deployment could not be created. ({LABEL})"
DEFAULT_EVALUATION_FAILURE = f"The evaluation job failed. ({LABEL})"
# What a `fixed` model answers: one labelled sentence, whatever the prompt.
FIXED_ANSWER = "This is a fixed answer of the stand-in for Bedrock; no model generated it."
# "There can be up to 1000 prompts in your dataset per evaluation job."
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-prompt-datasets-judge.html
MAX_EVALUATION_PROMPTS = 1000
# Metrics whose score is better when lower (the stand-in judge scores them 0.0): the responsible-AI
# judge metrics (botocore EvaluationDatasetMetricConfig.metricNames doc) and programmatic Toxicity /
# Robustness ("a low semantic robustness score indicates your model is performing well",
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-report-programmatic.html).
LOWER_IS_BETTER = ("Builtin.Harmfulness", "Builtin.Stereotyping", "Builtin.Refusal", "Builtin.Toxicity", "Builtin.Robustness")
# The programmatic metrics (no evaluator model); every other Builtin metric is a judge metric.
PROGRAMMATIC_METRICS = ("Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity")
_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"

# By ARN: deployments and evaluation jobs of every account and region (each record names its own).
_deployments: dict[str, dict[str, Any]] = {}
_evaluations: dict[str, dict[str, Any]] = {}
# (account, region, operation, clientRequestToken) -> the ARN that request created.
_tokens: dict[tuple[str, str, str, str], str] = {}
# s3 URI -> (etag, {prompt: referenceResponse}) of the evaluation dataset Converse answers from.
_datasets: dict[str, tuple[str, dict[str, str | None]]] = {}

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
        "deployment": {
            "outcome": "active",
            "seconds": DEFAULT_DEPLOYMENT_SECONDS,
            "failureMessage": DEFAULT_DEPLOYMENT_FAILURE,
            "quota": None,
        },
        "deployments": {},
        "evaluation": {
            "outcome": "complete",
            "seconds": DEFAULT_EVALUATION_SECONDS,
            "failureMessage": DEFAULT_EVALUATION_FAILURE,
            "stoppingSeconds": DEFAULT_STOPPING_SECONDS,
            "quota": None,
        },
        "evaluations": {},
        "models": {"deployment": {"answers": "reference"}, "base": {"answers": "fixed"}},
        "evaluationDataset": None,
    }


def reset() -> None:
    """Config back to disabled, recorded events cleared (jobs live in moto and are reset by moto)."""
    with _lock:
        _config.clear()
        _config.update(_initial_config())
        _events.clear()
        _requests.clear()
        _deployments.clear()
        _evaluations.clear()
        _tokens.clear()
        _datasets.clear()
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
    resources = ("deployment", "deployments", "evaluation", "evaluations", "models", "evaluationDataset")
    unknown = set(body) - {"enabled", "default", "jobs", *resources}
    if unknown:
        raise ConfigError(f"unknown fields: {sorted(unknown)}")
    updates: dict[str, Any] = {}
    for kind, outcomes, extra in (
        ("deployment", DEPLOYMENT_OUTCOMES, ("quota",)),
        ("evaluation", EVALUATION_OUTCOMES, ("quota", "stoppingSeconds")),
    ):
        if kind in body:
            updates[kind] = _check_resource_entry(body[kind], kind, outcomes, extra)
        if f"{kind}s" in body:
            by_name = body[f"{kind}s"]
            if not isinstance(by_name, dict):
                raise ConfigError(f"{kind}s must be an object keyed by name")
            updates[f"{kind}s"] = {n: _check_resource_entry(e, f"{kind}s.{n}", outcomes, extra) for n, e in by_name.items()}
    if "models" in body:
        updates["models"] = _check_models(body["models"])
    if "evaluationDataset" in body:
        updates["evaluationDataset"] = _check_dataset_uri(body["evaluationDataset"])
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
        for key, value in updates.items():
            if key == "evaluationDataset":
                _config[key] = value
            else:
                _config[key].update(value)
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
        model._standin_completed = True  # Active: CreateCustomModelDeployment takes it
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
    from moto.bedrockruntime.responses import BedrockRuntimeResponse

    import shape_check

    def checked(response: Any, operation: Any, pattern_exempt: Any = None) -> tuple[Any, list[str]]:
        """The request's parameters as botocore's `operation` reads them, and what breaks its input shape."""
        try:
            params = shape_check.request_params(
                operation,
                response.raw_body,
                {key: unquote(value) for key, value in (response.uri_match or {}).items()},
                parse_qs(urlparse(response.uri).query, keep_blank_values=True),
                {key.lower(): value for key, value in response.headers.items()},
            )
            return params, shape_check.check(params, operation.input_shape, pattern_exempt=pattern_exempt)
        except shape_check.RequestError as error:
            return None, [str(error)]

    original = BedrockResponse.call_action

    def call_action(self):
        name = self._get_action()  # moto's router (botocore's model): the operation, and self.uri_match
        operation = _operation(name)
        if operation is None:
            return original(self)
        headers = dict(self.response_headers)
        params, errors = checked(self, operation, _moto_arn)
        record: dict[str, Any] | None = None
        if name.startswith("Create"):
            record = {"time": _rfc3339(time.time()), "region": self.region, "operation": name, "request": params}
            if errors:
                record["error"] = shape_check.message(errors)
            with _lock:
                _requests.append(record)
        if errors:
            _log(f"{name} refused: {shape_check.message(errors)}")
            return _error(400, "ValidationException", shape_check.message(errors), headers)
        if name == "GetFoundationModel":
            return _get_foundation_model(self.region, params["modelIdentifier"], headers)
        try:
            served = _serve(name, self.current_account, self.region, params)
        except ApiError as error:
            if record is not None:
                with _lock:
                    record["error"] = f"{error.code}: {error.message}"
            _log(f"{name} refused: {error.code}: {error.message}")
            return _error(error.status(), error.code, error.message, headers)
        if served is not None:
            return _json(served[0], headers, served[1])
        response = original(self)
        if name == "CreateModelCustomizationJob" and "customizationConfig" in params:
            job = self.bedrock_backend.model_customization_jobs.get(params["jobName"])
            if job is not None:
                job.customization_config = copy.deepcopy(params["customizationConfig"])
        return response

    BedrockResponse.call_action = call_action

    def runtime_call_action(self):
        """bedrock-runtime: the SDK signs it with service name `bedrock`; moto's dispatcher hands a path of
        bedrock-runtime's model (POST /model/{modelId}/converse …) to moto's bedrock-runtime handler.
        Converse (moto has none) is checked against bedrock-runtime's service model and served here; every
        other operation is moto's (its InvokeModel takes a blob payload, not a JSON request shape_check reads)."""
        name = self._get_action()
        if name != "Converse":
            return original_runtime(self)
        headers = dict(self.response_headers)
        params, errors = checked(self, runtime_model().operation_model(name))
        if errors:
            _log(f"{name} refused: {shape_check.message(errors)}")
            return _error(400, "ValidationException", shape_check.message(errors), headers)
        try:
            with _lock:
                return _json(200, headers, _converse(self.current_account, self.region, params))
        except ApiError as error:
            _log(f"Converse refused: {error.code}: {error.message}")
            return _error(error.status(), error.code, error.message, headers)

    original_runtime = BedrockRuntimeResponse.call_action
    BedrockRuntimeResponse.call_action = runtime_call_action


def _patch_arns() -> None:
    """TagResource / ListTagsForResource / UntagResource also find the stand-in's deployments and evaluation jobs."""
    backend_cls = bedrock_models.BedrockBackend
    original = backend_cls._list_arns

    def _list_arns(self):
        return original(self) + _standin_arns(self.account_id, self.region_name)

    backend_cls._list_arns = _list_arns


def _patch_moto_reset() -> None:
    from moto.moto_api._internal.models import MotoAPIBackend

    original = MotoAPIBackend.reset

    def reset_with_standin(self):
        original(self)
        reset()

    MotoAPIBackend.reset = reset_with_standin


# ---------------------------------------------------------------------------------------------
# Custom model deployments, evaluation jobs and bedrock-runtime Converse (moto 5.2.5 has none of them)

class ApiError(Exception):
    """An error answered the way the service answers it (code in x-amzn-ErrorType, {"message"})."""

    def __init__(self, code: str, message: str, service: str = "bedrock") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.service = service

    def status(self) -> int:
        model = service_model() if self.service == "bedrock" else runtime_model()
        try:
            return int(model.shape_for(self.code).metadata["error"]["httpStatusCode"])
        except Exception:  # noqa: BLE001 - a code the model does not list: a client error
            return 400


def _new_id() -> str:
    return "".join(_ID_CHARS[b % len(_ID_CHARS)] for b in uuid.uuid4().bytes[:12])


def _resource_plan(kind: str, name: str) -> dict[str, Any]:
    plan = dict(_config[kind])
    plan.update(_config[f"{kind}s"].get(name, {}))
    return plan


def _check_resource_entry(entry: Any, where: str, outcomes: tuple[str, ...], extra: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be an object")
    unknown = set(entry) - {"outcome", "seconds", "failureMessage", *extra}
    if unknown:
        raise ConfigError(f"{where} has unknown fields: {sorted(unknown)}")
    out: dict[str, Any] = {}
    if "outcome" in entry:
        if entry["outcome"] not in outcomes:
            raise ConfigError(f"{where}.outcome must be one of {outcomes}")
        out["outcome"] = entry["outcome"]
    for key in ("seconds", "stoppingSeconds"):
        if key in entry:
            value = entry[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"{where}.{key} must be a number >= 0")
            out[key] = float(value)
    if "failureMessage" in entry:
        if not isinstance(entry["failureMessage"], str) or not entry["failureMessage"]:
            raise ConfigError(f"{where}.failureMessage must be a non-empty string")
        out["failureMessage"] = entry["failureMessage"]
    if "quota" in entry:
        value = entry["quota"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ConfigError(f"{where}.quota must be an integer >= 0 (or null: no quota)")
        out["quota"] = value
    return out


def _check_models(models: Any) -> dict[str, dict[str, str]]:
    if not isinstance(models, dict):
        raise ConfigError("models must be an object keyed by 'deployment', 'base', a model id or a deployment ARN/name")
    out = {}
    for key, entry in models.items():
        if not isinstance(entry, dict) or set(entry) != {"answers"} or entry["answers"] not in ANSWER_MODES:
            raise ConfigError(f"models.{key} must be {{\"answers\": one of {ANSWER_MODES}}}")
        out[key] = {"answers": entry["answers"]}
    return out


def _check_dataset_uri(uri: Any) -> str | None:
    if uri is not None and (not isinstance(uri, str) or not re.fullmatch(r"s3://[^/]+/.+", uri)):
        raise ConfigError("evaluationDataset must be an s3://<bucket>/<key> URI (or null)")
    return uri


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _json(status: int, headers: dict[str, Any], body: Any) -> tuple[int, dict[str, Any], str]:
    return status, {**headers, "content-type": "application/json"}, json.dumps(body)


def _backend(account: str, region: str) -> Any:
    return bedrock_models.bedrock_backends[account][region]


def _s3(account: str, region: str) -> Any:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    return s3_backends[account][get_partition(region)]


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def _read_s3(account: str, region: str, uri: str) -> tuple[str, bytes]:
    """(etag, bytes) of an object in moto's S3; LookupError when it cannot be read."""
    bucket, key = _split_s3(uri)
    try:
        obj = _s3(account, region).get_object(bucket, key)
    except Exception as error:  # noqa: BLE001 - moto's MissingBucket / MissingKey
        raise LookupError(f"{uri} could not be read ({type(error).__name__})") from None
    if obj is None:
        raise LookupError(f"{uri} could not be read")
    return str(obj.etag), obj.value


def _idempotent(account: str, region: str, operation: str, token: str | None) -> str | None:
    return _tokens.get((account, region, operation, token)) if token else None


# ---- deployments


def _advance_deployment(dep: dict[str, Any], now: float | None = None) -> None:
    """Creating -> Active (outcome active) or Failed (outcome fail) `seconds` after creation."""
    now = time.time() if now is None else now
    if dep["status"] != "Creating" or now - dep["created"] < dep["plan"]["seconds"]:
        return
    ended = dep["created"] + dep["plan"]["seconds"]
    dep["updated"] = ended
    if dep["plan"]["outcome"] == "active":
        dep["status"] = "Active"
    else:
        dep["status"] = "Failed"
        dep["failureMessage"] = dep["plan"]["failureMessage"]
    _log(f"deployment {dep['name']} {dep['status']}")


def _find_deployment(account: str, region: str, identifier: str) -> dict[str, Any]:
    for dep in _deployments.values():
        if dep["account"] == account and dep["region"] == region and identifier in (dep["arn"], dep["name"]):
            _advance_deployment(dep)
            return dep
    raise ApiError(
        "ResourceNotFoundException",
        f"The specified resource Amazon Resource Name (ARN) was not found. ({LABEL}: no custom model deployment {identifier})",
    )


def _render_deployment(dep: dict[str, Any], summary: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "customModelDeploymentArn": dep["arn"],
        "customModelDeploymentName" if summary else "modelDeploymentName": dep["name"],
        "modelArn": dep["modelArn"],
        "createdAt": _iso(dep["created"]),
        "status": dep["status"],
    }
    if dep.get("description") and not summary:
        out["description"] = dep["description"]
    if dep.get("failureMessage"):
        out["failureMessage"] = dep["failureMessage"]
    out["lastUpdatedAt"] = _iso(dep["updated"])
    return out


def _create_deployment(account: str, region: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    token = params.get("clientRequestToken")
    existing = _idempotent(account, region, "CreateCustomModelDeployment", token)
    if existing is not None:
        return 202, {"customModelDeploymentArn": existing}
    name, model_arn = params["modelDeploymentName"], params["modelArn"]
    backend = _backend(account, region)
    model = next((m for m in backend.custom_models.values() if m.model_arn == model_arn), None)
    if model is None:
        raise ApiError(
            "ResourceNotFoundException",
            f"The specified resource Amazon Resource Name (ARN) was not found. ({LABEL}: no custom model {model_arn})",
        )
    if not getattr(model, "_standin_completed", False):
        # "The custom model must be in the Active state." (CreateCustomModelDeployment modelArn doc); the
        # stand-in's reading: only a model a completed stand-in job created is Active.
        raise ApiError("ValidationException", f"The custom model {model_arn} is not in the Active state. ({LABEL})")
    live = [d for d in _deployments.values() if d["account"] == account and d["region"] == region]
    if any(d["name"] == name for d in live):
        # The API lists no ConflictException for this operation: the stand-in answers ValidationException.
        raise ApiError(
            "ValidationException",
            f"modelDeploymentName: a custom model deployment named {name} already exists in this account and Region. ({LABEL})",
        )
    plan = _resource_plan("deployment", name)
    if plan.get("quota") is not None and len(live) >= plan["quota"]:
        raise ApiError(
            "ServiceQuotaExceededException",
            f"The number of custom model deployments exceeds the quota ({plan['quota']}). ({LABEL})",
        )
    from moto.utilities.utils import get_partition

    arn = f"arn:{get_partition(region)}:bedrock:{region}:{account}:custom-model-deployment/{_new_id()}"
    now = time.time()
    _deployments[arn] = {
        "arn": arn, "name": name, "modelArn": model_arn, "description": params.get("description"),
        "account": account, "region": region, "created": now, "updated": now, "status": "Creating", "plan": plan,
    }
    if token:
        _tokens[(account, region, "CreateCustomModelDeployment", token)] = arn
    if params.get("tags"):
        backend.tagger.tag_resource(arn, [{"Key": t["key"], "Value": t["value"]} for t in params["tags"]])
    _log(f"deployment {name} Creating: {plan['outcome']} after {plan['seconds']} s")
    return 202, {"customModelDeploymentArn": arn}


def _when(value: str) -> float:
    """A request's timestamp (ISO 8601) as epoch seconds."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _listed(items: list[Any], params: dict[str, Any], filters: dict[str, Any], render: Any, key: str) -> dict[str, Any]:
    """A List* answer: the items each filter given in `params` keeps (param -> keep(item, value)), newest first
    unless sortOrder is Ascending, one page of them."""
    for param, keep in filters.items():
        if param in params:
            items = [item for item in items if keep(item, params[param])]
    items.sort(key=lambda item: item["created"], reverse=params.get("sortOrder", "Descending") == "Descending")
    return _page(items, params, render, key)


def _list_deployments(account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    deps = [d for d in _deployments.values() if d["account"] == account and d["region"] == region]
    for dep in deps:
        _advance_deployment(dep)
    filters = {
        "nameContains": lambda d, v: v in d["name"],
        "statusEquals": lambda d, v: d["status"] == v,
        "modelArnEquals": lambda d, v: d["modelArn"] == v,
        "createdAfter": lambda d, v: d["created"] > _when(v),
        "createdBefore": lambda d, v: d["created"] < _when(v),
    }
    return _listed(deps, params, filters, lambda d: _render_deployment(d, summary=True), "modelDeploymentSummaries")


def _page(items: list[Any], params: dict[str, Any], render: Any, key: str) -> dict[str, Any]:
    """One page: `nextToken` is the offset of the next item (the stand-in's token form)."""
    start = 0
    if "nextToken" in params:
        if not str(params["nextToken"]).isdigit() or int(params["nextToken"]) > len(items):
            raise ApiError("ValidationException", f"nextToken: the pagination token is not valid. ({LABEL})")
        start = int(params["nextToken"])
    end = start + params.get("maxResults", 1000)
    out: dict[str, Any] = {key: [render(item) for item in items[start:end]]}
    if end < len(items):
        out["nextToken"] = str(end)
    return out


# ---- Converse


def runtime_model() -> Any:
    global _runtime_model
    if _runtime_model is None:
        import botocore.session

        _runtime_model = botocore.session.get_session().get_service_model("bedrock-runtime")
    return _runtime_model


_runtime_model: Any = None


def _answers(model_id: str, dep: dict[str, Any] | None) -> str:
    models = _config["models"]
    keys = [model_id] + ([dep["arn"], dep["name"], "deployment"] if dep else ["base"])
    for key in keys:
        if key in models:
            return models[key]["answers"]
    return "reference" if dep else "fixed"


def _references(account: str, region: str, uri: str) -> dict[str, str | None]:
    """{prompt: referenceResponse} of the evaluation dataset, re-read when its ETag changes."""
    etag, data = _read_s3(account, region, uri)
    cached = _datasets.get(uri)
    if cached is not None and cached[0] == etag:
        return cached[1]
    table: dict[str, str | None] = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("prompt"), str):
            table.setdefault(record["prompt"], record.get("referenceResponse") if isinstance(record.get("referenceResponse"), str) else None)
    _datasets[uri] = (etag, table)
    return table


def _answer(account: str, region: str, model_id: str, prompt: str) -> str:
    """What the model `model_id` answers to `prompt`: ApiError (bedrock-runtime's) when it cannot."""
    dep = None
    if model_id.startswith("arn:") and ":custom-model-deployment/" in model_id:
        try:
            dep = _find_deployment(account, region, model_id)
        except ApiError as error:
            raise ApiError(error.code, error.message, "bedrock-runtime") from None
        if dep["status"] == "Creating":
            raise ApiError(
                "ModelNotReadyException",
                f"The model specified in the request is not ready to serve inference requests. ({LABEL}: deployment Creating)",
                "bedrock-runtime",
            )
        if dep["status"] != "Active":
            raise ApiError("ValidationException", f"The custom model deployment {model_id} is {dep['status']}. ({LABEL})", "bedrock-runtime")
    else:
        base_id = model_id.split("::foundation-model/", 1)[1] if model_id.startswith("arn:") else model_id
        details = FOUNDATION_MODELS.get(base_id)
        if details is None or (model_id.startswith("arn:") and model_id != _foundation_model_arn(region, base_id)):
            raise ApiError("ValidationException", f"The provided model identifier is invalid. ({LABEL}: no model {model_id})", "bedrock-runtime")
        if "ON_DEMAND" not in details["inferenceTypesSupported"]:
            raise ApiError(
                "ValidationException",
                f"Invocation of model ID {base_id} with on-demand throughput isn't supported. ({LABEL})",
                "bedrock-runtime",
            )
    if _answers(model_id, dep) == "fixed":
        return FIXED_ANSWER
    uri = _config["evaluationDataset"]
    reference = None
    if uri:
        try:
            reference = _references(account, region, uri).get(prompt)
        except LookupError as error:
            _log(f"Converse: evaluation dataset {error}")
    if reference is None:
        _log(f"Converse {model_id}: no referenceResponse for this prompt in {uri}; answering the fixed sentence")
        return FIXED_ANSWER
    return reference


def _tokens_of(chars: int) -> int:
    return -(-chars // 4)  # ceil(chars / 4): the stand-in's token count


def _converse(account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    started = time.time()
    messages = params.get("messages") or []
    texts = [block["text"] for block in (params.get("system") or []) if isinstance(block.get("text"), str)]
    for message in messages:
        texts += [block["text"] for block in message.get("content", []) if isinstance(block.get("text"), str)]
    users = [m for m in messages if m.get("role") == "user"]
    if not messages or not users or messages[-1].get("role") != "user":
        raise ApiError("ValidationException", "A conversation must end with a user message. Try again with a conversation that ends with a user message.", "bedrock-runtime")
    prompt = "\n".join(block["text"] for block in users[-1].get("content", []) if isinstance(block.get("text"), str))
    text = _answer(account, region, params["modelId"], prompt)
    stop = "end_turn"
    max_tokens = (params.get("inferenceConfig") or {}).get("maxTokens")
    if max_tokens is not None and _tokens_of(len(text)) > max_tokens:
        text, stop = text[: max_tokens * 4], "max_tokens"
    input_tokens, output_tokens = _tokens_of(sum(len(t) for t in texts)), _tokens_of(len(text))
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop,
        "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens, "totalTokens": input_tokens + output_tokens},
        "metrics": {"latencyMs": max(0, int((time.time() - started) * 1000))},
    }


# ---- evaluation jobs


def _tokens_for_f1(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def standin_judge(response: str, reference: str) -> float:
    """The stand-in judge: token-overlap F1 of the response against the reference (tokens: lower-cased
    runs of [a-z0-9]; overlap counts each token at most as often as both texts have it). NOT Bedrock's judge."""
    from collections import Counter

    got, want = _tokens_for_f1(response), _tokens_for_f1(reference)
    overlap = sum((Counter(got) & Counter(want)).values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(got), overlap / len(want)
    return 2 * precision * recall / (precision + recall)


def _find_evaluation(account: str, region: str, arn: str) -> dict[str, Any]:
    job = _evaluations.get(arn)
    if job is None or job["account"] != account or job["region"] != region:
        raise ApiError(
            "ResourceNotFoundException",
            f"The specified resource Amazon Resource Name (ARN) was not found. ({LABEL}: no evaluation job {arn})",
        )
    _advance_evaluation(job)
    return job


def _check_evaluation_request(params: dict[str, Any]) -> None:
    """What the stand-in serves of CreateEvaluationJob (each refusal a ValidationException naming the member)."""
    config = params["evaluationConfig"]
    if "automated" not in config:
        raise ApiError("ValidationException", f"evaluationConfig.human: the {LABEL} serves automated evaluation jobs only.")
    models = (params["inferenceConfig"] or {}).get("models")
    if not models:
        raise ApiError("ValidationException", f"inferenceConfig.ragConfigs: the {LABEL} serves model evaluation jobs only.")
    if len(models) != 1:
        # EvaluationInferenceConfig: "For automated model evaluation jobs, only a single model is supported."
        raise ApiError("ValidationException", "inferenceConfig.models: automated model evaluation jobs support a single model.")
    automated = config["automated"]
    judge = any(m not in PROGRAMMATIC_METRICS for c in automated["datasetMetricConfigs"] for m in c["metricNames"])
    if judge and not automated.get("evaluatorModelConfig"):
        raise ApiError("ValidationException", "evaluationConfig.automated.evaluatorModelConfig: judge metrics need an evaluator model.")
    if "precomputedInferenceSource" in models[0] and not automated.get("evaluatorModelConfig"):
        # Stand-in's reading: your own inference responses are documented for judge (and human) jobs only
        # (model-evaluation-prompt-datasets-judge.html#model-evaluation-prompt-datasets-judge-byoir).
        raise ApiError(
            "ValidationException",
            f"inferenceConfig.models[0].precomputedInferenceSource: needs a model-as-a-judge job (evaluatorModelConfig). ({LABEL})",
        )
    for i, c in enumerate(automated["datasetMetricConfigs"]):
        if "datasetLocation" not in c["dataset"]:
            raise ApiError(
                "ValidationException",
                f"evaluationConfig.automated.datasetMetricConfigs[{i}].dataset.datasetLocation: the {LABEL} serves custom prompt datasets only.",
            )


def _create_evaluation(account: str, region: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    token = params.get("clientRequestToken")
    existing = _idempotent(account, region, "CreateEvaluationJob", token)
    if existing is not None:
        return 202, {"jobArn": existing}
    _check_evaluation_request(params)
    name = params["jobName"]
    jobs = [j for j in _evaluations.values() if j["account"] == account and j["region"] == region]
    if any(j["name"] == name for j in jobs):
        # "Names must unique with your Amazon Web Services account, and your account's Amazon Web Services region."
        raise ApiError("ConflictException", f"jobName: an evaluation job named {name} already exists. ({LABEL})")
    plan = _resource_plan("evaluation", name)
    if plan.get("quota") is not None:
        for job in jobs:
            _advance_evaluation(job)
        if sum(1 for j in jobs if j["status"] in ("InProgress", "Stopping")) >= plan["quota"]:
            raise ApiError("ServiceQuotaExceededException", f"The number of evaluation jobs in progress exceeds the quota ({plan['quota']}). ({LABEL})")
    from moto.utilities.utils import get_partition

    job_id = _new_id()
    arn = f"arn:{get_partition(region)}:bedrock:{region}:{account}:evaluation-job/{job_id}"
    now = time.time()
    _evaluations[arn] = {
        "arn": arn, "id": job_id, "name": name, "account": account, "region": region, "created": now, "updated": now,
        "status": "InProgress", "plan": plan, "request": copy.deepcopy(params), "failureMessages": [], "stopRequested": None,
        "outputs": [],
    }
    if token:
        _tokens[(account, region, "CreateEvaluationJob", token)] = arn
    if params.get("jobTags"):
        _backend(account, region).tagger.tag_resource(arn, [{"Key": t["key"], "Value": t["value"]} for t in params["jobTags"]])
    _log(f"evaluation job {name} InProgress: {plan['outcome']} after {plan['seconds']} s")
    return 202, {"jobArn": arn}


def _advance_evaluation(job: dict[str, Any], now: float | None = None) -> None:
    now = time.time() if now is None else now
    plan = job["plan"]
    if job["status"] == "Stopping" and now - job["stopRequested"] >= plan["stoppingSeconds"]:
        job["status"], job["updated"] = "Stopped", job["stopRequested"] + plan["stoppingSeconds"]
        _log(f"evaluation job {job['name']} Stopped")
    if job["status"] != "InProgress" or now - job["created"] < plan["seconds"]:
        return
    job["updated"] = job["created"] + plan["seconds"]
    messages = [plan["failureMessage"]] if plan["outcome"] == "fail" else _run_evaluation(job)
    job["status"] = "Failed" if messages else "Completed"
    job["failureMessages"] = messages
    _log(f"evaluation job {job['name']} {job['status']}" + (f": {messages}" if messages else ""))


def _run_evaluation(job: dict[str, Any]) -> list[str]:
    """Reads each dataset, scores each record with the stand-in judge and writes the result files.
    Returns the failure messages (empty: Completed). No record content goes into a message."""
    request = job["request"]
    account, region = job["account"], job["region"]
    model = request["inferenceConfig"]["models"][0]
    precomputed = (model.get("precomputedInferenceSource") or {}).get("inferenceSourceIdentifier")
    model_id = precomputed or model["bedrockModel"]["modelIdentifier"]
    output = request["outputDataConfig"]["s3Uri"].rstrip("/")
    files: dict[str, bytes] = {}
    failures: list[str] = []
    for config in request["evaluationConfig"]["automated"]["datasetMetricConfigs"]:
        dataset = config["dataset"]
        uri = dataset["datasetLocation"]["s3Uri"]
        try:
            _, data = _read_s3(account, region, uri)
        except LookupError as error:
            failures.append(f"The dataset {dataset['name']} could not be read: {error}.")
            continue
        lines = [line for line in data.decode("utf-8", errors="replace").splitlines() if line.strip()]
        if not lines or len(lines) > MAX_EVALUATION_PROMPTS:
            failures.append(f"The dataset {dataset['name']} must have 1 to {MAX_EVALUATION_PROMPTS} prompts; it has {len(lines)}.")
            continue
        out_lines = []
        for number, line in enumerate(lines, start=1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if not isinstance(record, dict) or not isinstance(record.get("prompt"), str):
                failures.append(f"The dataset {dataset['name']}, line {number}: not a JSON object with a string prompt.")
                break
            responses = record.get("modelResponses")
            if precomputed is not None:
                # The stand-in's reading of the BYOI dataset rule: each line carries modelResponses with one
                # entry whose modelIdentifier is the job's inferenceSourceIdentifier.
                if (
                    not isinstance(responses, list)
                    or len(responses) != 1
                    or not isinstance(responses[0], dict)
                    or responses[0].get("modelIdentifier") != precomputed
                    or not isinstance(responses[0].get("response"), str)
                ):
                    failures.append(
                        f"The dataset {dataset['name']}, line {number}: modelResponses must hold one response whose "
                        f"modelIdentifier is the inferenceSourceIdentifier {precomputed}. ({LABEL})"
                    )
                    break
                response = responses[0]["response"]
            else:
                try:
                    response = _answer(account, region, model_id, record["prompt"])
                except ApiError as error:
                    failures.append(f"The model {model_id} could not be invoked: {error.code}.")
                    break
            reference = record.get("referenceResponse")
            scores = []
            for metric in config["metricNames"]:
                if metric in LOWER_IS_BETTER:
                    result: float | None = 0.0
                elif isinstance(reference, str):
                    result = standin_judge(response, reference)
                else:
                    result = None  # the stand-in judge cannot score without a reference
                scores.append({"metricName": metric, "result": result})
            input_record = {k: v for k, v in record.items() if k != "modelResponses"}
            out_lines.append(
                json.dumps(
                    {
                        "automatedEvaluationResult": {"scores": scores},
                        "inputRecord": input_record,
                        "modelResponses": [{"response": response, "modelIdentifier": model_id}],
                    }
                )
            )
        else:
            key = (
                f"{output}/{job['name']}/{job['id']}/models/{model_id}/taskTypes/{config['taskType']}"
                f"/datasets/{dataset['name']}/{uuid.uuid4()}_output.jsonl"
            )
            files[key] = ("\n".join(out_lines) + "\n").encode()
    if failures:
        return failures
    s3 = _s3(account, region)
    for uri, body in files.items():
        bucket, key = _split_s3(uri)
        try:
            s3.put_object(bucket, key, body)
        except Exception as error:  # noqa: BLE001 - e.g. the output bucket does not exist
            return [f"The results could not be written to {request['outputDataConfig']['s3Uri']} ({type(error).__name__})."]
        job["outputs"].append(uri)
        _log(f"wrote {uri}")
    return []


def _render_evaluation(job: dict[str, Any]) -> dict[str, Any]:
    request = job["request"]
    out: dict[str, Any] = {"jobName": job["name"], "status": job["status"], "jobArn": job["arn"]}
    for key in ("jobDescription", "roleArn", "customerEncryptionKeyId"):
        if key in request:
            out[key] = request[key]
    out["jobType"] = "Automated"
    out["applicationType"] = request.get("applicationType", "ModelEvaluation")
    for key in ("evaluationConfig", "inferenceConfig", "outputDataConfig"):
        out[key] = copy.deepcopy(request[key])
    out["creationTime"] = _iso(job["created"])
    out["lastModifiedTime"] = _iso(job["updated"])
    if job["status"] == "Failed":
        out["failureMessages"] = list(job["failureMessages"])
    return out


def _summarize_evaluation(job: dict[str, Any]) -> dict[str, Any]:
    """EvaluationSummary (botocore) of a job the stand-in serves (automated model evaluation, one model)."""
    request = job["request"]
    automated = request["evaluationConfig"]["automated"]
    model = request["inferenceConfig"]["models"][0]
    models = {"bedrockModelIdentifiers": [], "precomputedInferenceSourceIdentifiers": []}
    if "bedrockModel" in model:
        models["bedrockModelIdentifiers"].append(model["bedrockModel"]["modelIdentifier"])
    else:
        models["precomputedInferenceSourceIdentifiers"].append(model["precomputedInferenceSource"]["inferenceSourceIdentifier"])
    evaluators = ((automated.get("evaluatorModelConfig") or {}).get("bedrockEvaluatorModels")) or []
    out: dict[str, Any] = {
        "jobArn": job["arn"],
        "jobName": job["name"],
        "status": job["status"],
        "creationTime": _iso(job["created"]),
        "jobType": "Automated",
        "evaluationTaskTypes": sorted({c["taskType"] for c in automated["datasetMetricConfigs"]}),
        "modelIdentifiers": models["bedrockModelIdentifiers"],
        "inferenceConfigSummary": {"modelConfigSummary": models},
        "applicationType": request.get("applicationType", "ModelEvaluation"),
    }
    if evaluators:
        out["evaluatorModelIdentifiers"] = [e["modelIdentifier"] for e in evaluators]
    return out


def _list_evaluations(account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    jobs = [j for j in _evaluations.values() if j["account"] == account and j["region"] == region]
    for job in jobs:
        _advance_evaluation(job)
    filters = {
        "nameContains": lambda j, v: v in j["name"],
        "statusEquals": lambda j, v: j["status"] == v,
        "applicationTypeEquals": lambda j, v: j["request"].get("applicationType", "ModelEvaluation") == v,
        "creationTimeAfter": lambda j, v: j["created"] > _when(v),
        "creationTimeBefore": lambda j, v: j["created"] < _when(v),
    }
    return _listed(jobs, params, filters, _summarize_evaluation, "jobSummaries")


def _stop_evaluation(account: str, region: str, arn: str) -> None:
    job = _find_evaluation(account, region, arn)
    if job["status"] != "InProgress":
        # Stand-in's reading: ValidationException (the API lists it and ConflictException; Bedrock's batch
        # inference answers ValidationException for stopping a finished job).
        raise ApiError("ValidationException", f"The evaluation job {job['name']} is {job['status']} and cannot be stopped. ({LABEL})")
    now = time.time()
    job["status"], job["stopRequested"], job["updated"] = "Stopping", now, now
    _log(f"evaluation job {job['name']} Stopping")


def _serve(name: str, account: str, region: str, params: dict[str, Any]) -> tuple[int, Any] | None:
    """The operations the stand-in serves itself: (status, body), or None for moto's."""
    with _lock:
        if name == "CreateCustomModelDeployment":
            return _create_deployment(account, region, params)
        if name == "GetCustomModelDeployment":
            return 200, _render_deployment(_find_deployment(account, region, params["customModelDeploymentIdentifier"]))
        if name == "DeleteCustomModelDeployment":
            dep = _find_deployment(account, region, params["customModelDeploymentIdentifier"])
            del _deployments[dep["arn"]]
            _backend(account, region).tagger.delete_all_tags_for_resource(dep["arn"])
            _log(f"deployment {dep['name']} deleted")
            return 200, {}
        if name == "ListCustomModelDeployments":
            return 200, _list_deployments(account, region, params)
        if name == "CreateEvaluationJob":
            return _create_evaluation(account, region, params)
        if name == "GetEvaluationJob":
            return 200, _render_evaluation(_find_evaluation(account, region, params["jobIdentifier"]))
        if name == "ListEvaluationJobs":
            return 200, _list_evaluations(account, region, params)
        if name == "StopEvaluationJob":
            _stop_evaluation(account, region, params["jobIdentifier"])
            return 200, {}
        if name == "CreateProvisionedModelThroughput":
            raise ApiError(
                "ValidationException",
                f"The {LABEL} does not serve Provisioned Throughput; the request was recorded (GET /_standin/bedrock/requests).",
            )
    return None


def _standin_arns(account: str, region: str) -> list[str]:
    with _lock:
        return [r["arn"] for r in (*_deployments.values(), *_evaluations.values()) if r["account"] == account and r["region"] == region]


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
                wanted = request.args.getlist("operation")
                body = {"requests": [r for r in get_requests() if not wanted or r.get("operation") in wanted]}
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
    _patch_arns()
    _check_foundation_models()
    dispatcher = moto.server.DomainDispatcherApplication
    moto.server.DomainDispatcherApplication = lambda create_app: ControlRoutes(dispatcher(create_app))
