"""A synthesized stack as the local kit reads it: the template, the asset folders, the environment.

The input is what ``cdk synth`` made and nothing else: a ``Stack`` object (synthesized through its app) or a stack
in a cloud assembly folder such as ``cdk.out/``.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from constructs_lib.testing._engine.intrinsics import TemplateError

if TYPE_CHECKING:
    from aws_cdk import Stack

DEFAULT_ACCOUNT = "123456789012"
"""moto's default account: the kit runs env-agnostic stacks in it."""
DEFAULT_REGION = "us-east-1"
_ENVIRONMENT = re.compile(r"^aws://(?P<account>[^/]+)/(?P<region>[^/]+)$")


@dataclass(frozen=True)
class SynthesizedStack:
    """One synthesized stack: its template, where its assets are, and the account and region it targets."""

    stack_name: str
    template: Mapping[str, Any]
    asset_dirs: Mapping[str, Path] = field(default_factory=dict)
    """Object key of each asset in the bootstrap bucket (``<hash>.zip``) -> its folder on disk."""
    account: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    paths: Mapping[str, str] = field(default_factory=dict)
    """Logical id -> construct path inside the stack (``Worker/Function``), for finding resources by name."""

    @classmethod
    def from_stack(cls, stack: Stack) -> SynthesizedStack:
        """Synthesize ``stack`` through its stage (the stage caches the assembly) and read the result."""
        from aws_cdk import Stage, Token

        assembly = Stage.of(stack).synth()  # type: ignore[union-attr]
        artifact = assembly.get_stack_artifact(stack.artifact_id)
        account = stack.account if not Token.is_unresolved(stack.account) else DEFAULT_ACCOUNT
        region = stack.region if not Token.is_unresolved(stack.region) else DEFAULT_REGION
        directory = Path(assembly.directory)
        template = artifact.template
        paths = _logical_id_paths(directory, stack.artifact_id, template, stack.node.path)
        return cls(
            stack_name=artifact.stack_name,
            template=template,
            asset_dirs=_asset_dirs(directory, directory / f"{stack.artifact_id}.assets.json"),
            account=account,
            region=region,
            paths=paths if paths is not None else _construct_paths(stack),
        )

    @classmethod
    def from_cloud_assembly(cls, directory: str | Path, stack_name: str) -> SynthesizedStack:
        """Read a stack from a cloud assembly folder (``cdk.out/``) by its artifact id or stack name."""
        directory = Path(directory)
        manifest_path = directory / "manifest.json"
        if not manifest_path.is_file():
            raise TemplateError(f"{directory} is not a cloud assembly (no manifest.json): run `cdk synth` first")
        artifacts: Mapping[str, Any] = json.loads(manifest_path.read_text())["artifacts"]
        stacks = {
            artifact_id: artifact
            for artifact_id, artifact in artifacts.items()
            if artifact.get("type") == "aws:cloudformation:stack"
        }
        chosen = next(
            (
                (artifact_id, artifact)
                for artifact_id, artifact in stacks.items()
                if stack_name in (artifact_id, artifact.get("displayName"), artifact["properties"].get("stackName"))
            ),
            None,
        )
        if chosen is None:
            raise TemplateError(
                f"no stack {stack_name!r} in {directory}; it has: {', '.join(sorted(stacks)) or 'none'}"
            )
        artifact_id, artifact = chosen
        properties = artifact["properties"]
        template = json.loads((directory / properties["templateFile"]).read_text())
        asset_manifests = [
            directory / artifacts[dependency]["properties"]["file"]
            for dependency in artifact.get("dependencies", [])
            if artifacts.get(dependency, {}).get("type") == "cdk:asset-manifest"
        ]
        asset_dirs: dict[str, Path] = {}
        for asset_manifest in asset_manifests:
            asset_dirs.update(_asset_dirs(directory, asset_manifest))
        account, region = DEFAULT_ACCOUNT, DEFAULT_REGION
        match = _ENVIRONMENT.match(str(artifact.get("environment", "")))
        if match:
            account = account if match["account"].startswith("unknown") else match["account"]
            region = region if match["region"].startswith("unknown") else match["region"]
        paths = {
            logical_id: _inside(str(resource["Metadata"]["aws:cdk:path"]), artifact_id)
            for logical_id, resource in template.get("Resources", {}).items()
            if "aws:cdk:path" in resource.get("Metadata", {})
        }
        return cls(
            stack_name=properties.get("stackName", artifact_id),
            template=template,
            asset_dirs=asset_dirs,
            account=account,
            region=region,
            paths=paths,
        )

    def asset_dir(self, code: Mapping[str, Any], *, where: str) -> Path:
        """The folder of a Lambda ``Code`` / layer ``Content`` property that points at a bootstrap asset."""
        key = code.get("S3Key")
        if not isinstance(key, str) or key not in self.asset_dirs:
            raise TemplateError(
                f"{where}: its code is not a file asset of this stack (S3Key {key!r}); the local kit runs code from "
                "asset folders (lambda_.Code.from_asset) or inline code"
            )
        return self.asset_dirs[key]


def _logical_id_paths(
    directory: Path, artifact_id: str, template: Mapping[str, Any], stack_path: str
) -> dict[str, str] | None:
    """Each resource's construct path from the assembly's ``aws:cdk:logicalId`` metadata, which CDK writes for every
    CloudFormation element by its path (in the manifest, or the stack's metadata file beside it); None when a
    resource of the template has none (the metadata turned off) or two (a nested stack's metadata is its parent's,
    and its logical ids may repeat the parent's): then only a walk of the constructs tells."""
    try:
        artifact = json.loads((directory / "manifest.json").read_text())["artifacts"][artifact_id]
        metadata = artifact.get("metadata")
        if metadata is None and "additionalMetadataFile" in artifact:
            metadata = json.loads((directory / artifact["additionalMetadataFile"]).read_text())
    except (OSError, ValueError, KeyError):
        return None
    resources = template.get("Resources", {})
    paths: dict[str, str] = {}
    for path, entries in (metadata or {}).items():
        for entry in entries:
            logical_id = entry.get("data")
            if entry.get("type") != "aws:cdk:logicalId" or logical_id not in resources:
                continue
            inside = _inside(path.removeprefix("/"), stack_path)
            if paths.setdefault(logical_id, inside) != inside:
                return None  # a nested stack's element with the same logical id (its ids are its own): walk instead
    return paths if len(paths) == len(resources) else None


def _construct_paths(stack: Stack) -> dict[str, str]:
    """Each resource's construct path from a walk of the stack's constructs (a jsii call or more for each)."""
    from aws_cdk import CfnResource, Stack

    paths: dict[str, str] = {}
    stack_path = stack.node.path
    for child in stack.node.find_all():
        if isinstance(child, CfnResource) and Stack.of(child) is stack:
            paths[str(stack.resolve(child.logical_id))] = _inside(child.node.path, stack_path)
    return paths


def _inside(path: str, stack_path: str) -> str:
    return path.removeprefix(f"{stack_path}/").removesuffix("/Resource")


def _asset_dirs(directory: Path, asset_manifest: Path) -> dict[str, Path]:
    if not asset_manifest.is_file():
        return {}
    files: Mapping[str, Any] = json.loads(asset_manifest.read_text()).get("files", {})
    found: dict[str, Path] = {}
    for asset in files.values():
        source = asset.get("source", {})
        path = directory / str(source.get("path", ""))
        for destination in asset.get("destinations", {}).values():
            key = destination.get("objectKey")
            if not isinstance(key, str):
                continue
            if path.is_dir():
                found[key] = path
            elif path.is_file() and path.suffix == ".zip":
                found[key] = _unzipped(path)
    return found


def _unzipped(archive: Path) -> Path:
    target = Path(tempfile.mkdtemp(prefix="local-kit-asset-"))
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(target)
    return target
