"""PythonDependencyLayer: a Lambda layer built at synth time with pip on this machine, never with Docker.

requirements file and/or a folder of Python code
  --pip install --target <asset>/python --platform manylinux..._<arch> --only-binary=:all:
      --implementation cp --python-version <the runtime's version>   (wheels for Lambda, not for this machine)
  --the folder's files copied into <asset>/python
  --byte code, console scripts and install records removed (the content depends on the inputs only)
-> an asset zip -> AWS::Lambda::LayerVersion (CompatibleRuntimes, CompatibleArchitectures)
   [+ AWS::Lambda::LayerVersionPermission for other accounts or an AWS Organization]

The asset hash is computed from the inputs (requirements files, folder content, local wheel folders, pip
arguments, platform tags and Python version), so a re-synth knows the hash before it builds: with the same
``cdk.out`` CDK skips the build, and with a fresh ``cdk.out`` the build is copied from a local cache.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import Annotations, AssetHashType, BundlingOptions, DockerImage, ILocalBundling, RemovalPolicy, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from constructs_lib._internal.prop_types import checked_props
from constructs_lib._internal.validation import Problems, is_unresolved

DEFAULT_RUNTIME = lambda_.Runtime.PYTHON_3_14
LAYER_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
"""Lambda's limit on the unzipped size of a function and all its layers together."""
UNUSED_DOCKER_IMAGE = "unused-local-bundling-only"
"""The image CDK requires in BundlingOptions; never pulled or run: local bundling builds or raises."""
CACHE_ENV_VAR = "CONSTRUCTS_LIB_LAYER_CACHE"
_HASH_FORMAT = "python-dependency-layer/1"
_PIP_TIMEOUT_SECONDS = 900
_ARCH_TAGS = {"x86_64": "x86_64", "arm64": "aarch64"}
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_PYTHON_RUNTIME = re.compile(r"^python(?P<major>\d+)\.(?P<minor>\d+)$")
_NESTED_FILE = re.compile(r"^(?:-r|--requirement|-c|--constraint)(?:\s+|=)(?P<path>\S+)")
_FIND_LINKS = ("-f", "--find-links")
_OWNED_PIP_OPTIONS = (
    "--target",
    "-t",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--only-binary",
    "--no-binary",
    "--prefix",
    "--root",
    "--user",
    "--requirement",
    "-r",
)
_NOISE_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".git", ".venv"}
_NOISE_SUFFIXES = (".pyc", ".pyo")
_NOISE_NAMES = {".DS_Store"}
_DIST_INFO_NOISE = ("RECORD", "INSTALLER", "direct_url.json", "REQUESTED")


class LayerBuildError(RuntimeError):
    """The layer could not be built on this machine; the message says why and what to install or change."""


def python_version_of(runtime: lambda_.Runtime) -> str | None:
    """``"3.12"`` for ``Runtime.PYTHON_3_12``; None for a runtime that is not a CPython ``pythonX.Y`` runtime."""
    match = _PYTHON_RUNTIME.match(runtime.name)
    if runtime.family != lambda_.RuntimeFamily.PYTHON or match is None:
        return None
    return f"{match['major']}.{match['minor']}"


def default_platforms(python_version: str, architecture: lambda_.Architecture) -> tuple[str, ...]:
    """The wheel platform tags the runtime's OS can load, newest glibc first after ``manylinux2014``.

    Python 3.12 and later run on Amazon Linux 2023 (glibc 2.34); earlier versions on Amazon Linux 2 (glibc 2.26).
    pip expands ``manylinux2014`` to manylinux2010/manylinux1 itself, but not the PEP 600 ``manylinux_2_X`` tags,
    so those are listed one by one.
    """
    arch = _ARCH_TAGS[architecture.name]
    minor = int(python_version.split(".")[1])
    glibc_minor = 34 if minor >= 12 else 26
    return (f"manylinux2014_{arch}", *(f"manylinux_2_{m}_{arch}" for m in range(glibc_minor, 16, -1)))


def default_cache_dir() -> Path:
    """``$CONSTRUCTS_LIB_LAYER_CACHE``, else ``$XDG_CACHE_HOME/constructs-lib/python-layers`` (``~/.cache``)."""
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "constructs-lib" / "python-layers"


class PythonDependencyLayer(Construct):
    """A Lambda layer of Python packages (a requirements file) and/or Python code (a folder), built locally."""

    @checked_props
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        requirements_file: str | os.PathLike[str] | None = None,
        code_dir: str | os.PathLike[str] | None = None,
        runtime: lambda_.Runtime = DEFAULT_RUNTIME,
        architecture: lambda_.Architecture = lambda_.Architecture.X86_64,
        pip_args: Sequence[str] = (),
        pip_command: Sequence[str] | None = None,
        platforms: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        cache: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
        share_with_accounts: Sequence[str] = (),
        share_with_organization: str | None = None,
        layer_name: str | None = None,
        description: str | None = None,
        license: str | None = None,
        removal_policy: RemovalPolicy | None = None,
    ) -> None:
        """
        :param requirements_file: a pip requirements file; its packages are installed from wheels for the runtime's
            Python version and architecture. Pin versions (``==``): the asset hash follows the file, not what the
            index serves. ``-r`` / ``-c`` files it includes are part of the hash too.
            :default: - no packages (``code_dir`` must be given)
        :param code_dir: a folder whose content is copied into the layer's ``python/`` folder (so ``code_dir/mylib``
            is importable as ``mylib``). :default: - no code of your own (``requirements_file`` must be given)
        :param runtime: the Python runtime the layer is built for (its version selects the wheels) and declared
            compatible with. :default: - Python 3.14, the runtime the examples use
        :param architecture: x86_64 or arm64; selects the wheels and is declared compatible.
            :default: - x86_64
        :param pip_args: extra arguments for ``pip install``, for example ``["--index-url", url]`` or
            ``["--find-links", "wheels", "--no-index"]``. Put credentials in pip's configuration or environment
            (``PIP_INDEX_URL``), not here. :default: - none
        :param pip_command: how to run pip. :default: - ``[sys.executable, "-m", "pip"]``, the synthesizing Python
        :param platforms: the wheel platform tags pip may choose from. :default: - ``manylinux2014_<arch>`` and the
            ``manylinux_2_X_<arch>`` tags the runtime's glibc supports (2.26 up to Python 3.11, 2.34 from 3.12)
        :param exclude: glob patterns (relative to ``code_dir``) of files not to copy. Byte code and tool caches are
            never copied. :default: - none
        :param cache: reuse a build with the same inputs from ``cache_dir`` (a fresh ``cdk.out`` then needs no pip
            run). :default: true
        :param cache_dir: where builds are cached. :default: - ``$CONSTRUCTS_LIB_LAYER_CACHE``, else
            ``~/.cache/constructs-lib/python-layers``
        :param share_with_accounts: 12-digit account ids allowed to use this layer version.
            :default: - not shared
        :param share_with_organization: an AWS Organizations id (``o-...``) whose accounts may use this layer version.
            :default: - not shared
        :param layer_name: :default: - a name CloudFormation generates
        :param description: :default: - the Python version, architecture and inputs of the layer
        :param license: :default: - none
        :param removal_policy: what happens to a layer version that an update replaces or a stack deletion removes.
            :default: - RETAIN when the layer is shared (other accounts' functions refer to this version's ARN),
            otherwise DESTROY
        """
        super().__init__(scope, construct_id)
        problems = Problems()
        self.python_version = python_version_of(runtime)
        if self.python_version is None:
            problems.add(
                f"runtime must be a Python runtime such as lambda_.Runtime.PYTHON_3_12, got {runtime.name!r}; "
                "a layer for another language needs that language's packaging"
            )
        if architecture.name not in _ARCH_TAGS:
            problems.add(
                f"architecture must be lambda_.Architecture.X86_64 or ARM_64, got {architecture.name!r}; "
                "Lambda runs on those two only"
            )
        if requirements_file is None and code_dir is None:
            problems.add("give requirements_file (packages to install), code_dir (Python code to ship), or both")
        requirements = Path(requirements_file).resolve() if requirements_file is not None else None
        folder = Path(code_dir).resolve() if code_dir is not None else None
        if requirements is not None and not requirements.is_file():
            problems.add(f"requirements_file {str(requirements)!r} does not exist or is not a file")
        if folder is not None and not folder.is_dir():
            problems.add(f"code_dir {str(folder)!r} does not exist or is not a folder")
        if (
            requirements is not None
            and requirements.is_file()
            and folder is None
            and not _requirement_lines(requirements)
        ):
            problems.add(f"requirements_file {str(requirements)!r} lists no package; add one or give code_dir")
        self.pip_command: tuple[str, ...] = tuple(pip_command) if pip_command is not None else _default_pip()
        if not self.pip_command:
            problems.add("pip_command is empty; give the command that runs pip, e.g. ['python3.12', '-m', 'pip']")
        for arg in pip_args:
            option = arg.split("=", 1)[0]
            if option in _OWNED_PIP_OPTIONS:
                problems.add(
                    f"pip_args must not set {option}: the construct sets it (use requirements_file, runtime, "
                    "architecture or platforms instead)"
                )
        if platforms is not None and architecture.name in _ARCH_TAGS:
            arch = _ARCH_TAGS[architecture.name]
            if not platforms:
                problems.add("platforms is empty; leave it out for the defaults or give manylinux tags")
            for tag in platforms:
                if not tag.endswith(f"_{arch}"):
                    problems.add(f"platforms: {tag!r} is not a tag for {architecture.name} (it must end in _{arch})")
        _check_accounts(problems, share_with_accounts)
        if share_with_organization is not None:
            _check_organization(problems, share_with_organization)
        problems.raise_if_any(self)
        assert self.python_version is not None

        self.runtime = runtime
        self.architecture = architecture
        self.requirements_file = requirements
        self.code_dir = folder
        self.platforms: tuple[str, ...] = (
            tuple(platforms) if platforms is not None else default_platforms(self.python_version, architecture)
        )
        self.pip_args: tuple[str, ...] = tuple(pip_args)
        self.exclude: tuple[str, ...] = tuple(exclude)
        self.cache_dir: Path | None = (
            (Path(cache_dir) if cache_dir is not None else default_cache_dir()) if cache else None
        )
        self.source_hash = self._source_hash()
        """The hash of every input of the build: the key of the asset (through CDK) and of the cache."""
        if requirements is not None:
            unpinned = _unpinned(requirements)
            if unpinned:
                Annotations.of(self).add_warning_v2(
                    "constructs-lib:unpinned-requirement",
                    f"{requirements.name}: {', '.join(unpinned)} not pinned with ==; the layer is rebuilt only when "
                    "the file changes, so pin versions to know what you deploy",
                )

        self.bundler = LocalPipBundler(self)
        # CDK needs an existing source path; with a custom hash it neither reads nor copies it.
        source = folder or (requirements.parent if requirements is not None else None)
        assert source is not None
        code = lambda_.Code.from_asset(
            str(source),
            asset_hash=self.source_hash,
            asset_hash_type=AssetHashType.CUSTOM,
            bundling=BundlingOptions(image=DockerImage.from_registry(UNUSED_DOCKER_IMAGE), local=self.bundler),
        )
        self._removal_policy_given = removal_policy is not None
        shared = bool(share_with_accounts) or share_with_organization is not None
        default_removal = RemovalPolicy.RETAIN if shared else RemovalPolicy.DESTROY
        try:
            self.layer = lambda_.LayerVersion(
                self,
                "Layer",
                code=code,
                compatible_runtimes=[runtime],
                compatible_architectures=[architecture],
                layer_version_name=layer_name,
                description=description or self._description(),
                license=license,
                removal_policy=removal_policy if removal_policy is not None else default_removal,
            )
        except RuntimeError:  # jsii wraps what try_bundle raised: give the Python error back
            if self.bundler.error is not None:
                raise self.bundler.error from None
            raise
        if share_with_accounts:
            self.share_with_accounts(*share_with_accounts)
        if share_with_organization is not None:
            self.share_with_organization(share_with_organization)

    # -- what was made ---------------------------------------------------------------------------------------------
    @property
    def layer_version_arn(self) -> str:
        return self.layer.layer_version_arn

    @property
    def asset(self) -> s3_assets.Asset:
        """The asset CDK staged (``asset.asset_path`` is the built folder inside the cloud assembly)."""
        child = self.layer.node.find_child("Code")
        assert isinstance(child, s3_assets.Asset)
        return child

    @property
    def asset_hash(self) -> str:
        """The asset hash CDK uses (derived from :attr:`source_hash`): it changes exactly when an input changes."""
        return self.asset.asset_hash

    # -- sharing ---------------------------------------------------------------------------------------------------
    def share_with_accounts(self, *account_ids: str) -> None:
        """Allow these AWS accounts to use (``lambda:GetLayerVersion``) this layer version."""
        problems = Problems()
        _check_accounts(problems, account_ids)
        problems.raise_if_any(self)
        own = Stack.of(self).account
        for account_id in account_ids:
            # The id comes from a validated 12-digit account id: reordering the list keeps each permission.
            permission_id = (
                f"ShareWithAccount{len(self.layer.node.children)}"
                if is_unresolved(account_id)
                else f"ShareWith{account_id}"
            )
            if account_id == own or self.layer.node.try_find_child(permission_id) is not None:
                continue
            self.layer.add_permission(permission_id, account_id=account_id)
        self._retain_when_shared()

    def share_with_organization(self, organization_id: str) -> None:
        """Allow every account of this AWS Organization to use this layer version."""
        problems = Problems()
        _check_organization(problems, organization_id)
        problems.raise_if_any(self)
        permission_id = "ShareWithOrganization" if is_unresolved(organization_id) else f"ShareWith{organization_id}"
        if self.layer.node.try_find_child(permission_id) is None:
            self.layer.add_permission(permission_id, account_id="*", organization_id=organization_id)
        self._retain_when_shared()

    def _retain_when_shared(self) -> None:
        if not self._removal_policy_given:
            self.layer.apply_removal_policy(RemovalPolicy.RETAIN)

    # -- build -----------------------------------------------------------------------------------------------------
    def pip_install_command(self, target: str | os.PathLike[str]) -> list[str]:
        """The pip command that installs the requirements into ``target`` (the layer's ``python/`` folder)."""
        assert self.requirements_file is not None
        assert self.python_version is not None
        platform_args = [arg for tag in self.platforms for arg in ("--platform", tag)]
        return [
            *self.pip_command,
            "install",
            "--requirement",
            str(self.requirements_file),
            "--target",
            str(target),
            *platform_args,
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            self.python_version,
            "--no-compile",
            "--disable-pip-version-check",
            "--no-input",
            *self.pip_args,
        ]

    def build(self, output_dir: Path) -> None:
        """Build the layer's content into ``output_dir`` (from the cache when it has this build)."""
        cached = self.cache_dir / self.source_hash if self.cache_dir is not None else None
        if cached is not None and (cached / "python").is_dir():
            shutil.copytree(cached, output_dir, dirs_exist_ok=True, symlinks=True)
            return
        target = output_dir / "python"
        target.mkdir(parents=True, exist_ok=True)
        if self.requirements_file is not None:
            self._pip_install(target)
            shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts, with this machine's interpreter
        if self.code_dir is not None:
            shutil.copytree(
                self.code_dir,
                target,
                dirs_exist_ok=True,
                symlinks=False,
                ignore=_ignore(self.code_dir, self.exclude),
            )
        _strip_noise(target)
        size = _tree_size(output_dir)
        if size > LAYER_UNZIPPED_LIMIT_BYTES:
            raise LayerBuildError(
                f"{self.node.path}: the layer is {size / 2**20:.0f} MB unzipped; Lambda allows 250 MB for a function "
                "and all its layers together. Drop packages (boto3 is in the runtime already) or split the layer."
            )
        if cached is not None:
            _store(output_dir, cached)

    def _pip_install(self, target: Path) -> None:
        assert self.requirements_file is not None
        environment = {
            **os.environ,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PIP_REQUIRE_VIRTUALENV": "0",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
        command = self.pip_install_command(target)
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                env=environment,
                cwd=self.requirements_file.parent,
                timeout=_PIP_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise LayerBuildError(
                f"{self.node.path}: pip did not finish in {_PIP_TIMEOUT_SECONDS} s: `{shlex.join(command)}`"
            ) from error
        except OSError as error:  # the command's program cannot run at all
            raise LayerBuildError(self._pip_missing(environment) or str(error)) from error
        if result.returncode != 0:
            # Asked only after a failure (a build that works runs pip once): is it pip that is missing?
            raise LayerBuildError(
                self._pip_missing(environment) or self._pip_failure(command, result.stdout, result.stderr)
            )

    def _pip_missing(self, environment: Mapping[str, str]) -> str | None:
        """What to do when ``pip_command`` is not a working pip (``pip --version`` fails); None when it is one."""
        probe = [*self.pip_command, "--version"]
        try:
            answer = subprocess.run(probe, capture_output=True, text=True, env=environment, timeout=120, check=False)
            if answer.returncode == 0:
                return None
            detail = (answer.stderr or answer.stdout).strip().splitlines()[-1:]
        except (OSError, subprocess.TimeoutExpired) as error:
            detail = [str(error)]
        return (
            f"{self.node.path}: pip is needed to build this layer on this machine (it is never built in Docker), "
            f"but `{shlex.join(probe)}` failed: {' '.join(detail) or 'no output'}. Install pip for that Python "
            "(`python -m ensurepip --upgrade`, or your OS package python3-pip), or pass pip_command=[...] naming "
            f"a Python that has pip. Any Python 3 with pip works: the wheels are chosen for Python "
            f"{self.python_version} on {self.architecture.name}, not for the Python that runs pip."
        )

    def _pip_failure(self, command: Sequence[str], stdout: str, stderr: str) -> str:
        lines = [line.strip() for line in (stderr + "\n" + stdout).splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR:")] or lines[-5:]
        summary = "\n".join(f"    {line}" for line in errors[:10])
        hint = ""
        if any("No matching distribution" in line or "Could not find a version" in line for line in errors):
            hint = (
                f"\n  No wheel of that package (version) exists for CPython {self.python_version} on "
                f"{', '.join(self.platforms[:2])}{'...' if len(self.platforms) > 2 else ''}. Source distributions "
                "are refused on purpose (--only-binary=:all:): built here they would target this machine, not "
                "Lambda. Pick a version that publishes such wheels, check the name and your index (pip_args), or "
                "build the wheel for Lambda yourself and add its folder with pip_args=['--find-links', <folder>]."
            )
        return (
            f"{self.node.path}: pip could not install {self.requirements_file} for Python {self.python_version} "
            f"({self.architecture.name}):\n{summary}{hint}\n  command: {shlex.join(command)}"
        )

    # -- hashing ---------------------------------------------------------------------------------------------------
    def _source_hash(self) -> str:
        digest = hashlib.sha256()

        def add(label: str, value: str | bytes) -> None:
            data = value.encode() if isinstance(value, str) else value
            digest.update(f"{label}:{len(data)}:".encode())
            digest.update(data)

        add("format", _HASH_FORMAT)
        add("python", self.python_version or "")
        add("architecture", self.architecture.name)
        add("platforms", "\n".join(self.platforms))
        wheelhouses = _local_find_links(self.pip_args, self.requirements_file)
        # A local wheel folder counts by its wheels (names and sizes), not by where this checkout happens to be.
        portable = [
            "<local wheel folder>" if arg in wheelhouses or arg.removeprefix("--find-links=") in wheelhouses else arg
            for arg in self.pip_args
        ]
        add("pip_args", "\n".join(portable))
        if self.requirements_file is not None:
            for path in _requirement_files(self.requirements_file):
                add("requirements", path.read_bytes().replace(b"\r\n", b"\n"))
        for folder in wheelhouses.values():
            for entry in sorted(p for p in folder.iterdir() if p.is_file()):
                add("wheelhouse", f"{entry.name}:{entry.stat().st_size}")
        if self.code_dir is not None:
            add("exclude", "\n".join(self.exclude))
            ignore = _ignore(self.code_dir, self.exclude)
            for relative in _walk(self.code_dir, ignore):
                add("file", relative.as_posix())
                add("content", (self.code_dir / relative).read_bytes())
        return digest.hexdigest()

    def _description(self) -> str:
        inputs = [p.name for p in (self.requirements_file, self.code_dir) if p is not None]
        return f"Python {self.python_version} {self.architecture.name} layer from {' and '.join(inputs)}"


@jsii.implements(ILocalBundling)
class LocalPipBundler:
    """CDK's local bundling hook: builds the layer or raises, and never returns False (which would mean Docker)."""

    def __init__(self, layer: PythonDependencyLayer) -> None:
        self._layer = layer
        self.error: LayerBuildError | None = None
        self.builds = 0
        """How many times this synth actually built (0 when CDK reused an existing ``asset.<hash>`` folder)."""

    def try_bundle(
        self,
        output_dir: str,
        *,
        image: DockerImage,
        bundling_file_access: Any = None,
        command: Any = None,
        entrypoint: Any = None,
        environment: Any = None,
        local: Any = None,
        network: Any = None,
        output_type: Any = None,
        platform: Any = None,
        security_opt: Any = None,
        user: Any = None,
        volumes: Any = None,
        volumes_from: Any = None,
        working_directory: Any = None,
    ) -> bool:
        self.builds += 1
        try:
            self._layer.build(Path(output_dir))
        except LayerBuildError as error:
            self.error = error
            raise
        except Exception as error:
            self.error = LayerBuildError(f"{self._layer.node.path}: building the layer failed: {error}")
            raise self.error from error
        return True


# -- helpers -----------------------------------------------------------------------------------------------------
def _default_pip() -> tuple[str, ...]:
    return (sys.executable, "-m", "pip")


def _check_accounts(problems: Problems, account_ids: Iterable[str]) -> None:
    for account_id in account_ids:
        if is_unresolved(account_id):
            continue
        if account_id == "*":
            problems.add(
                "share_with_accounts: '*' would make the layer public; share with an organization "
                "(share_with_organization) or list account ids"
            )
        elif not _ACCOUNT_ID.match(account_id):
            problems.add(f"share_with_accounts: {account_id!r} is not an AWS account id (12 digits)")


def _check_organization(problems: Problems, organization_id: str) -> None:
    if not is_unresolved(organization_id) and not _ORGANIZATION_ID.match(organization_id):
        problems.add(
            f"share_with_organization: {organization_id!r} is not an AWS Organizations id (o- then 10 to 32 "
            "lower-case letters or digits, e.g. o-a1b2c3d4e5)"
        )


def _requirement_files(path: Path, seen: set[Path] | None = None) -> list[Path]:
    """The file and the ``-r`` / ``-c`` files it includes (relative to the including file), each once."""
    seen = set() if seen is None else seen
    if path in seen or not path.is_file():
        return []
    seen.add(path)
    found = [path]
    for line in path.read_text(errors="replace").splitlines():
        match = _NESTED_FILE.match(line.strip())
        if match:
            found += _requirement_files((path.parent / match["path"]).resolve(), seen)
    return found


def _requirement_lines(path: Path, seen: set[Path] | None = None) -> list[str]:
    """The requirement lines of the file and of the ``-r`` files it includes (constraint files list no package)."""
    seen = set() if seen is None else seen
    if path in seen or not path.is_file():
        return []
    seen.add(path)
    lines: list[str] = []
    for raw in path.read_text(errors="replace").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        nested = _NESTED_FILE.match(line)
        if nested and line.startswith(("-r", "--requirement")):
            lines += _requirement_lines((path.parent / nested["path"]).resolve(), seen)
        elif line and (not line.startswith("-") or line.startswith(("-e", "--editable"))):
            lines.append(line)
    return lines


def _unpinned(path: Path) -> list[str]:
    names = []
    for line in _requirement_lines(path):
        if line.startswith("-") or "==" in line or " @ " in line or "://" in line or line.endswith(".whl"):
            continue
        names.append(re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0])
    return names


def _local_find_links(pip_args: Sequence[str], requirements: Path | None) -> dict[str, Path]:
    """Local folders given to ``--find-links`` (argument -> folder): the wheels in them are inputs of the build."""
    values: list[str] = []
    for index, arg in enumerate(pip_args):
        if arg in _FIND_LINKS and index + 1 < len(pip_args):
            values.append(pip_args[index + 1])
        elif arg.startswith("--find-links="):
            values.append(arg.split("=", 1)[1])
    base = requirements.parent if requirements is not None else Path.cwd()  # pip runs in the requirements' folder
    folders: dict[str, Path] = {}
    for value in values:
        if "://" in value and not value.startswith("file://"):
            continue
        folder = base / value.removeprefix("file://")
        if folder.is_dir():
            folders[value] = folder
    return folders


def _ignore(root: Path, patterns: Sequence[str]) -> Any:
    def ignore(directory: str, names: list[str]) -> set[str]:
        ignored = set()
        for name in names:
            path = Path(directory) / name
            relative = path.relative_to(root).as_posix()
            if (
                name in _NOISE_NAMES
                or name.endswith(_NOISE_SUFFIXES)
                or (name in _NOISE_DIRS and path.is_dir())
                or any(Path(relative).match(pattern) for pattern in patterns)
            ):
                ignored.add(name)
        return ignored

    return ignore


def _walk(root: Path, ignore: Any) -> list[Path]:
    files: list[Path] = []
    for directory, dirnames, filenames in os.walk(root):
        skipped = ignore(directory, [*dirnames, *filenames])
        dirnames[:] = sorted(d for d in dirnames if d not in skipped)
        files += [Path(directory, f).relative_to(root) for f in filenames if f not in skipped]
    return sorted(files, key=lambda p: p.as_posix())


def _strip_noise(target: Path) -> None:
    """Remove what depends on the machine or the moment, not on the inputs: byte code and install records."""
    for path in sorted(target.rglob("*"), reverse=True):
        if path.is_dir() and path.name == "__pycache__":
            shutil.rmtree(path)
        elif path.is_file() and (
            path.name.endswith(_NOISE_SUFFIXES)
            or (path.parent.name.endswith(".dist-info") and path.name in _DIST_INFO_NOISE)
        ):
            path.unlink()


def _tree_size(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file() and not path.is_symlink())


def _store(output_dir: Path, cached: Path) -> None:
    """Copy a build into the cache atomically; a concurrent synth storing the same build is fine."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{cached.name[:16]}-", dir=cached.parent))
    try:
        shutil.copytree(output_dir, staging, dirs_exist_ok=True, symlinks=True)
        os.replace(staging, cached)
    except OSError:
        if not (cached / "python").is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
