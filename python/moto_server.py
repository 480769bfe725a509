"""Start moto server (the AWS emulator of the emulator tier and `npm run local`) with three fixes to
its Bedrock model (bugs of moto 5.2.5, not behaviours of the real service); the first two are what
the AWS SDK for JavaScript v3 needs:

1. moto renders job/model times as "YYYY-MM-DD HH:MM:SS"; the JS SDK requires RFC 3339 and fails
   the whole response ("Invalid RFC-3339 date-time value"). Rendered here as "YYYY-MM-DDTHH:MM:SSZ"
   (moto stamps them with datetime.now(); the project runs moto with TZ=UTC).
   The list operations (ListModelCustomizationJobs, ListCustomModels) render their summaries
   without to_dict, so their times are rewritten in the JSON response.
2. moto looks jobs up by name only; the real API (and the JS SDK, which percent-encodes it into the
   path) also takes the job ARN as `jobIdentifier`.
3. moto refuses a job whose trainingDataConfig has no `s3Uri` ("Member must satisfy regular
   expression pattern: s3://.*"); the API's TrainingDataConfig takes `invocationLogsConfig` instead
   of `s3Uri` for a distillation job trained from invocation logs (botocore data/bedrock/2023-04-20/
   service-2.json shape TrainingDataConfig; shape checks are the stand-in's, bedrock_standin.py).
   Accepted here when `invocationLogsConfig` is given; the job keeps its trainingDataConfig as given.

And three fixes to its CloudFormation, which `osls deploy` needs (the deploy rehearsal, test/infra/deploy.test.ts):

4. moto substitutes the variables of `Fn::Sub [text, {name: value}]` with Python's string.Template,
   whose names cannot start with a digit; CloudFormation's Fn::Sub takes any name of its variable
   map (AWS CloudFormation Template Reference, "Fn::Sub": VarName is "the name of a variable that
   you included in the String parameter"), and serverless-step-functions, whose stacks deploy on
   AWS, names the state machine's Lambda ARNs by md5 hex digests. moto left "${5637...}" in place,
   then looked it up as a logical id and failed the deploy (KeyError, HTTP 500). Substituted here
   by name first.
5. ExecuteChangeSet (how `osls deploy` creates and updates the stack) applies the change set's
   resources but keeps the stack's template and outputs of before: DescribeStacks showed no
   Outputs (CloudFormation shows those of the template deployed), and the outputs' exports were never
   registered, so DeleteStack failed popping them (KeyError, HTTP 500) halfway through the deletion.
   Refreshed and registered here after the change set, as CreateStack does.
6. moto resolves an output's export value anew on every DescribeStacks (ExportName of each output):
   after DeleteStack, DescribeStacks of the deleted stack (osls remove and the test read it by its id)
   resolved `Ref CustomizeModelStateMachine` again, which re-created the state machine and the seven
   functions its definition names, in no stack. Resolved once per deployed template here.

It also installs the stand-in for Bedrock (python/bedrock_standin.py): every Bedrock request and every
bedrock-runtime Converse checked against botocore's service models (always), GetFoundationModel for a table of models,
custom model deployments, evaluation jobs and Converse (always: moto has none of them), and jobs
that complete or fail on a configured schedule, controlled over /_standin/bedrock/* (disabled until
configured, so moto's behaviour, every job InProgress until stopped, stays the default).

Usage: python python/moto_server.py -H 127.0.0.1 -p PORT   (same arguments as `moto_server`)
"""
import json
from datetime import datetime
from urllib.parse import unquote

import moto.bedrock.models as bedrock_models
import moto.bedrock.responses as bedrock_responses


def _rfc3339(value):
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError):
        return value


def _patch_to_dict(cls):
    original = cls.to_dict

    def to_dict(self):
        out = original(self)
        for key in ("creationTime", "lastModifiedTime", "endTime"):
            if key in out:
                out[key] = _rfc3339(out[key])
        return out

    cls.to_dict = to_dict


def _patch_list_response(name, summaries_key):
    original = getattr(bedrock_responses.BedrockResponse, name)

    def rendered(self):
        out = json.loads(original(self))
        for summary in out.get(summaries_key) or []:
            for key in ("creationTime", "lastModifiedTime", "endTime"):
                if summary.get(key) is None:
                    summary.pop(key, None)  # e.g. no endTime yet (the stand-in for Bedrock)
                else:
                    summary[key] = _rfc3339(summary[key])
        return json.dumps(out)

    setattr(bedrock_responses.BedrockResponse, name, rendered)


def _patch_identifier(name):
    original = getattr(bedrock_models.BedrockBackend, name)

    def by_name_or_arn(self, job_identifier):
        return original(self, unquote(job_identifier).rsplit("/", 1)[-1])

    setattr(bedrock_models.BedrockBackend, name, by_name_or_arn)


def _patch_invocation_logs_training_data():
    cls = bedrock_models.ModelCustomizationJob
    original = cls.__init__

    def __init__(self, job_name, custom_model_name, role_arn, base_model_identifier, training_data_config, *args, **kwargs):
        given = training_data_config
        from_logs = isinstance(given, dict) and "s3Uri" not in given and "invocationLogsConfig" in given
        # moto's own check needs an s3Uri; the invocation log source stands for it while it runs.
        source = ((given.get("invocationLogsConfig") or {}).get("invocationLogSource") or {}).get("s3Uri", "s3://") if from_logs else None
        original(self, job_name, custom_model_name, role_arn, base_model_identifier, {"s3Uri": source} if from_logs else given, *args, **kwargs)
        self.training_data_config = given

    cls.__init__ = __init__


def _patch_fn_sub_variables():
    import moto.cloudformation.parsing as cfn_parsing

    original = cfn_parsing.clean_json

    def clean_json(resource_json, resources_map):
        sub = resource_json.get("Fn::Sub") if isinstance(resource_json, dict) else None
        if isinstance(sub, list) and len(sub) == 2 and isinstance(sub[0], str) and isinstance(sub[1], dict) and sub[1]:
            text, variables = sub
            for name, value in variables.items():
                text = text.replace("${" + name + "}", str(clean_json(value, resources_map)))
            # The pseudo parameters, ${LogicalId} and ${LogicalId.Attribute} left: moto's own handling.
            return original({"Fn::Sub": [text, {}]}, resources_map)
        return original(resource_json, resources_map)

    # clean_json calls itself through the module's global name, so nested values get the fix too.
    cfn_parsing.clean_json = clean_json


def _patch_change_set_outputs():
    from moto.cloudformation.models import CloudFormationBackend, Stack

    original = CloudFormationBackend.execute_change_set
    resolve_exports = Stack.exports.fget

    def exports(self):
        cached = getattr(self, "_exports_of", None)
        if cached is None or cached[0] is not self.output_map:
            cached = (self.output_map, resolve_exports(self))
            self._exports_of = cached
        return cached[1]

    Stack.exports = property(exports)

    def execute_change_set(self, change_set_name, stack_name=None):
        original(self, change_set_name, stack_name)
        change_set = self.change_sets.get(change_set_name) or next(
            cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name
        )
        stack = self.stacks[change_set.stack_id]
        stack._parse_template()  # the change set's template, which execute_change_set stored
        stack.output_map = stack._create_output_map()
        for export in stack.exports:
            self.exports[export.name] = export
        stack.outputs  # resolved now, while the resources exist (then read from the output map's cache)

    CloudFormationBackend.execute_change_set = execute_change_set


_patch_fn_sub_variables()
_patch_change_set_outputs()
_patch_invocation_logs_training_data()
_patch_to_dict(bedrock_models.ModelCustomizationJob)
_patch_to_dict(bedrock_models.CustomModel)
_patch_list_response("list_model_customization_jobs", "modelCustomizationJobSummaries")
_patch_list_response("list_custom_models", "modelSummaries")
for _method in ("get_model_customization_job", "stop_model_customization_job"):
    _patch_identifier(_method)

if __name__ == "__main__":
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bedrock_standin

    # After the two fixes above: the stand-in wraps the fixed backend methods and to_dict.
    bedrock_standin.install()

    from moto.server import main

    main()
