"""The query language of the example workflows: JSONPath unless the context value ``queryLanguage`` says JSONata.

``cdk synth -c queryLanguage=JSONata`` synthesizes every example workflow (OrchestratedLambda, DefectDetection,
SlackErrorReporting) with JSONata states; the consumers receive the same records either way.
"""

from __future__ import annotations

from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

QUERY_LANGUAGE_CONTEXT = "queryLanguage"
LANGUAGES = {"JSONPath": sfn.QueryLanguage.JSON_PATH, "JSONata": sfn.QueryLanguage.JSONATA}
"""The context's spellings (those of the ASL ``QueryLanguage`` field), and the language each picks."""


def query_language(scope: Construct) -> sfn.QueryLanguage:
    """The language the context value ``queryLanguage`` names (``JSONPath`` or ``JSONata``); JSONPath without it."""
    value = scope.node.try_get_context(QUERY_LANGUAGE_CONTEXT)
    if value is None or value == "":
        return sfn.QueryLanguage.JSON_PATH
    if not isinstance(value, str) or value not in LANGUAGES:
        raise ValueError(
            f"context {QUERY_LANGUAGE_CONTEXT} must be one of {', '.join(LANGUAGES)}, got {value!r}: "
            f"cdk synth -c {QUERY_LANGUAGE_CONTEXT}=JSONata"
        )
    return LANGUAGES[value]
