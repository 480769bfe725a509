"""Start moto server (the AWS emulator of the emulator tier and `npm run local`) with two fixes to
its Bedrock model that the AWS SDK for JavaScript v3 needs. Both are bugs of moto 5.2.5, not
behaviours of the real service:

1. moto renders job/model times as "YYYY-MM-DD HH:MM:SS"; the JS SDK requires RFC 3339 and fails
   the whole response ("Invalid RFC-3339 date-time value"). Rendered here as "YYYY-MM-DDTHH:MM:SSZ"
   (moto stamps them with datetime.now(); the project runs moto with TZ=UTC).
   The list operations (ListModelCustomizationJobs, ListCustomModels) render their summaries
   without to_dict, so their times are rewritten in the JSON response.
2. moto looks jobs up by name only; the real API (and the JS SDK, which percent-encodes it into the
   path) also takes the job ARN as `jobIdentifier`.

It also installs the stand-in for Bedrock (python/bedrock_standin.py: jobs that complete or fail
on a configured schedule, controlled over /_standin/bedrock/*); disabled until configured, so moto's
behaviour (every job InProgress until stopped) stays the default.

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
