"""Snapshots of synthesized templates that are stable across machines, checkout paths and CDK patch releases.

``template_snapshot(stack)`` (or a ``Template``, or a template dict) and ``cloud_assembly_snapshot(cdk_out)`` return
plain dicts: compare them with syrupy (``assert template_snapshot(stack) == snapshot``) or with each other. What
changes with the machine, the handler code's bytes or the CDK release is masked; everything you wrote is kept:

- asset hashes (64 hex digits) wherever they appear: S3 keys (``<hash>.zip``), asset paths in metadata, image tags,
  become ``<asset-hash>``;
- logical ids that embed a hash of the resource's content (a Lambda ``CurrentVersion``, an API Gateway
  ``Deployment``) keep their path part and lose the hash (``FnCurrentVersion1A2B3C4D<hash>``), in the resource and
  in every reference to it;
- CDK metadata: the ``CDKMetadata`` resource and its ``CDKMetadataAvailable`` condition (analytics that name the
  CDK version) are left out;
- the bootstrap version: the ``BootstrapVersion`` parameter and the ``CheckBootstrapVersion`` rule are kept by name,
  their content masked (the CDK release sets it);
- the runtime of aws-cdk-lib's own singleton functions (custom resource providers, whose ids embed a 32-digit
  hex id): the CDK release picks it.

Standard library only, besides reading a ``Stack`` through ``aws_cdk.assertions.Template``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_cdk import Stack
    from aws_cdk.assertions import Template

ASSET_HASH = "<asset-hash>"
CONTENT_HASH = "<content-hash>"
MASKED = "<masked>"

_ASSET_HASH = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
# aws-cdk-lib names these resources <path part><8 hex of the path hash><32 hex of the resource's content hash>.
_CONTENT_HASHED_ID = re.compile(r"\b([A-Za-z0-9]*?(?:CurrentVersion|Deployment)[0-9A-F]{8})[0-9a-f]{32}\b")
# aws-cdk-lib's singleton providers carry a 32-digit hex id in their construct id (AWS679f53fac002430cb0da5b7982bd2287).
_SINGLETON_ID = re.compile(r"[0-9a-f]{32}")


def _masked_text(text: str) -> str:
    return _CONTENT_HASHED_ID.sub(rf"\1{CONTENT_HASH}", _ASSET_HASH.sub(ASSET_HASH, text))


def _masked_template(template: Mapping[str, Any]) -> dict[str, Any]:
    masked: dict[str, Any] = json.loads(_masked_text(json.dumps(template, sort_keys=True)))
    resources: dict[str, Any] = masked.get("Resources", {})
    resources.pop("CDKMetadata", None)
    conditions: dict[str, Any] = masked.get("Conditions", {})
    conditions.pop("CDKMetadataAvailable", None)
    if not conditions:
        masked.pop("Conditions", None)
    for section, name in (("Parameters", "BootstrapVersion"), ("Rules", "CheckBootstrapVersion")):
        if name in masked.get(section, {}):
            masked[section][name] = MASKED
    for logical_id, resource in resources.items():
        properties = resource.get("Properties") if isinstance(resource, Mapping) else None
        if (
            resource.get("Type") in {"AWS::Lambda::Function", "AWS::Lambda::SingletonFunction"}
            and isinstance(properties, dict)
            and "Runtime" in properties
            and _SINGLETON_ID.search(logical_id)
        ):
            properties["Runtime"] = MASKED
    return masked


def template_snapshot(source: Stack | Template | Mapping[str, Any]) -> dict[str, Any]:
    """The template of ``source`` (a ``Stack``, an ``aws_cdk.assertions.Template`` or a template dict) as a
    snapshot: a plain dict with hashes, CDK metadata and the bootstrap version masked (see the module)."""
    if isinstance(source, Mapping):
        return _masked_template(source)
    to_json = getattr(source, "to_json", None)
    if to_json is None:  # a Stack
        from aws_cdk.assertions import Template

        to_json = Template.from_stack(source).to_json  # type: ignore[arg-type]
    template: Mapping[str, Any] = to_json()
    return _masked_template(template)


def cloud_assembly_snapshot(directory: str | Path) -> dict[str, dict[str, Any]]:
    """Every stack template of a cloud assembly folder (``cdk.out/`` after ``cdk synth``, or an app's ``outdir``),
    by stack name, each as ``template_snapshot`` makes it. Nested assemblies (stages) are included, their stacks
    named ``<stage>/<stack>``."""
    root = Path(directory)
    return dict(sorted(_assembly_templates(root, prefix="").items()))


def _assembly_templates(folder: Path, prefix: str) -> dict[str, dict[str, Any]]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    found: dict[str, dict[str, Any]] = {}
    for artifact_id, artifact in (manifest.get("artifacts") or {}).items():
        kind = artifact.get("type")
        properties = artifact.get("properties") or {}
        if kind == "aws:cloudformation:stack":
            name = properties.get("stackName") or artifact_id
            template = json.loads((folder / properties["templateFile"]).read_text(encoding="utf-8"))
            found[f"{prefix}{name}"] = _masked_template(template)
        elif kind == "cdk:cloud-assembly":
            nested = folder / properties["directoryName"]
            found.update(_assembly_templates(nested, prefix=f"{prefix}{properties.get('displayName', artifact_id)}/"))
    return found


__all__ = ["cloud_assembly_snapshot", "template_snapshot"]
