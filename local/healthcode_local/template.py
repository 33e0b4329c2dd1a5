"""Reads ``infra/template.yaml`` (CloudFormation tags understood by cfn-lint's loader) and answers what
the tests and the local stack need from it: functions, their handlers and routes, resources, and the
intrinsic functions resolved against local physical names. Nothing here duplicates the template.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

from cfnlint.decode import decode_str

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "infra" / "template.yaml"


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # as in the template: /admin/v1/regions/{code}
    function: str  # logical id
    public: bool  # no authorizer
    authorizer: str | None = None  # a Lambda authorizer's name; None: a JWT authorizer (the API's default)
    scopes: tuple[str, ...] = ()  # AuthorizationScopes: the token's scope claim must hold one of them

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$")


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str  # module.function
    properties: Mapping[str, Any]

    @property
    def module_path(self) -> Path:
        return self.code_dir / (self.handler.rsplit(".", 1)[0].replace(".", "/") + ".py")

    def load(self) -> Callable[..., Any]:
        """Import the handler module from its folder (as Lambda would) and return the handler."""
        return getattr(self.module(), self.handler.rsplit(".", 1)[1])

    def module(self) -> ModuleType:
        """The handler's module, imported once from the function's folder."""
        name = f"healthcode_fn_{self.logical_id}"
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, self.module_path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {self.module_path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
        return module


class Template:
    def __init__(self, path: Path = TEMPLATE) -> None:
        self.path = path
        doc, matches = decode_str(path.read_text(encoding="utf-8"))
        if matches:
            raise ValueError(f"{path}: {matches}")
        self.doc: dict[str, Any] = doc

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.doc["Resources"]

    def of_type(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v.get("Properties", {}) for k, v in self.resources.items() if v["Type"] == type_}

    def parameter_defaults(self) -> dict[str, str]:
        return {k: str(v.get("Default", "")) for k, v in self.doc.get("Parameters", {}).items()}

    @cached_property
    def functions(self) -> dict[str, FunctionSpec]:
        out = {}
        for logical, props in self.of_type("AWS::Serverless::Function").items():
            code_dir = (self.path.parent / props["CodeUri"]).resolve()
            out[logical] = FunctionSpec(logical, code_dir, props["Handler"], props)
        return out

    @cached_property
    def routes(self) -> list[Route]:
        out = []
        for logical, spec in self.functions.items():
            for event in spec.properties.get("Events", {}).values():
                if event["Type"] != "HttpApi":
                    continue
                p = event["Properties"]
                auth = p.get("Auth", {}).get("Authorizer")
                lambda_authorizer = auth not in (None, "NONE") and "JwtConfiguration" not in self._authorizer(auth)
                out.append(
                    Route(
                        p["Method"].upper(),
                        p["Path"],
                        logical,
                        auth == "NONE",
                        auth if lambda_authorizer else None,
                        tuple(p.get("Auth", {}).get("AuthorizationScopes", ())),
                    )
                )
        return out

    def _authorizer(self, name: str) -> Mapping[str, Any]:
        for api in self.of_type("AWS::Serverless::HttpApi").values():
            found = api.get("Auth", {}).get("Authorizers", {}).get(name)
            if found is not None:
                return dict(found)
        return {}

    def route_for(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for r in self.routes:
            if r.method == method.upper():
                m = r.pattern.match(path)
                if m:
                    return r, m.groupdict()
        return None

    def function_environment(self, logical: str) -> dict[str, Any]:
        env = dict(self.doc.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
        env.update(self.functions[logical].properties.get("Environment", {}).get("Variables", {}))
        return env

    def lambda_authorizer(self, name: str) -> tuple[str, list[str]]:
        """The function logical id and identity headers of a Lambda authorizer of the HTTP API."""
        api = next(iter(self.of_type("AWS::Serverless::HttpApi").values()))
        spec = api["Auth"]["Authorizers"][name]
        return spec["FunctionArn"]["Fn::GetAtt"][0], list(spec.get("Identity", {}).get("Headers", []))

    def jwt_authorizer(self) -> dict[str, Any]:
        api = next(iter(self.of_type("AWS::Serverless::HttpApi").values()))
        auth = api["Auth"]
        return auth["Authorizers"][auth["DefaultAuthorizer"]]["JwtConfiguration"]


class Resolver:
    """Resolves Ref, Fn::GetAtt and Fn::Sub against parameters and local physical ids."""

    def __init__(
        self, parameters: dict[str, str], refs: dict[str, str], attrs: dict[str, str], region: str, account: str
    ) -> None:
        # shared, not copied: provisioning fills refs and attrs as it creates resources
        self.parameters = parameters
        self.refs = refs
        self.attrs = attrs
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "healthcode-local",
        }

    def ref(self, name: str) -> str:
        for table in (self.pseudo, self.parameters, self.refs):
            if name in table:
                return table[name]
        raise KeyError(f"cannot resolve Ref {name}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Fn::GetAtt":
                logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.attrs[f"{logical}.{attr}"]
            if fn == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

                def sub(m: re.Match[str]) -> str:
                    key = m.group(1)
                    if key in extra:
                        return str(extra[key])
                    if "." in key:
                        return self.attrs[key]
                    return self.ref(key)

                return re.sub(r"\$\{([^}!]+)\}", sub, text)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value
