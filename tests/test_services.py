"""Mock-engine tests of the three backends: internal ALBs, the Fargate service, the EC2 web app, the docs bucket."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.network import Network, NetworkArgs
from services.container_service import ContainerService, ContainerServiceArgs
from services.docs_bucket import DocsBucket, DocsBucketArgs, document_files
from services.internal_alb import InternalAlb
from services.web_app import WebApp, WebAppArgs
from tests.conftest import Deployed, deploy, resolve
from whitelabel.config import DocsSettings, NetworkSettings, Service1Settings, Service2Settings
from whitelabel.offline import ROOT, AwsMocks, Registered, StackRun, run_program, stack_file_config

DOCUMENTS = ROOT / "documents"


def with_network(build: Callable[[Network], Any]) -> Deployed:
    return deploy(lambda: build(Network("network", NetworkArgs.from_settings(NetworkSettings()))))


@pytest.fixture(scope="module")
def ecs() -> Deployed:
    settings = Service1Settings(port=8080, healthCheckPath="/healthz")

    def build(net: Network) -> ContainerService:
        return ContainerService("service1", ContainerServiceArgs.from_settings(settings, net, 30, "proj-dev"))

    return with_network(build)


@pytest.fixture(scope="module")
def ec2() -> Deployed:
    settings = Service2Settings(minSize=2, maxSize=4, desiredCapacity=3, port=8000)
    return with_network(lambda net: WebApp("service2", WebAppArgs.from_settings(settings, net)))


def docs_run(versioning: bool) -> Deployed:
    args = DocsBucketArgs.from_settings(DocsSettings(folder=str(DOCUMENTS), versioning=versioning))
    return deploy(lambda: DocsBucket("docs", args))


@pytest.fixture(scope="module")
def docs() -> Deployed:
    return docs_run(versioning=False)


def rules_on(run: Deployed, security_group: Registered, kind: str) -> list[Registered]:
    type_ = f"aws:vpc/security{kind}Rule:Security{kind}Rule"
    return [r for r in run.of_type(type_) if r.inputs["securityGroupId"] == security_group.id]


# -- internal ALB (through both services) -----------------------------------------------------------


@pytest.mark.parametrize(("fixture", "service", "port"), [("ecs", "service1", 8080), ("ec2", "service2", 8000)])
def test_alb_is_internal_in_the_private_subnets_and_admits_only_the_vpc_link(
    request: pytest.FixtureRequest, fixture: str, service: str, port: int
) -> None:
    run: Deployed = request.getfixturevalue(fixture)
    lb = run.named(f"{service}-alb-lb")
    assert lb.inputs["internal"] is True and lb.inputs["loadBalancerType"] == "application"
    assert lb.inputs["subnets"] == [run.named(f"network-private-{i}").id for i in range(2)]
    alb_sg = run.named(f"{service}-alb-sg")
    assert lb.inputs["securityGroups"] == [alb_sg.id]
    assert "ingress" not in alb_sg.inputs
    (ingress,) = rules_on(run, alb_sg, "GroupIngress")
    assert ingress.inputs["referencedSecurityGroupId"] == run.named("network-vpc-link-sg").id
    assert (ingress.inputs["ipProtocol"], ingress.inputs["fromPort"], ingress.inputs["toPort"]) == ("tcp", port, port)
    assert "cidrIpv4" not in ingress.inputs and "cidrIpv6" not in ingress.inputs
    (egress,) = rules_on(run, alb_sg, "GroupEgress")
    assert (egress.inputs["cidrIpv4"], egress.inputs["fromPort"], egress.inputs["toPort"]) == (
        "10.0.0.0/16",
        port,
        port,
    )


@pytest.mark.parametrize(
    ("fixture", "service", "target_type"), [("ecs", "service1", "ip"), ("ec2", "service2", "instance")]
)
def test_listener_forwards_to_a_target_group_of_the_right_type(
    request: pytest.FixtureRequest, fixture: str, service: str, target_type: str
) -> None:
    run: Deployed = request.getfixturevalue(fixture)
    tg = run.named(f"{service}-alb-tg")
    assert tg.inputs["targetType"] == target_type
    assert tg.inputs["vpcId"] == run.named("network-vpc").id
    listener = run.named(f"{service}-alb-listener")
    assert listener.inputs["loadBalancerArn"] == run.named(f"{service}-alb-lb").outputs["arn"]
    assert listener.inputs["protocol"] == "HTTP" and listener.inputs["port"] == tg.inputs["port"]
    assert listener.inputs["defaultActions"] == [{"type": "forward", "targetGroupArn": tg.outputs["arn"]}]
    assert tg.inputs["healthCheck"]["matcher"] == "200-399"


def test_alb_attributes_are_what_the_gateway_needs(ecs: Deployed) -> None:
    alb: InternalAlb = ecs.value.load_balancer
    assert isinstance(alb, InternalAlb) and alb.port == 8080
    assert resolve(alb.arn) == ecs.named("service1-alb-lb").outputs["arn"]
    assert resolve(alb.dns_name).startswith("internal-")
    assert resolve(alb.target_group_arn) == ecs.named("service1-alb-tg").outputs["arn"]
    assert resolve(alb.security_group_id) == ecs.named("service1-alb-sg").id
    assert alb.listener.urn is not None


# -- ECS Fargate service ---------------------------------------------------------------------------


def test_ecs_service_runs_on_fargate_in_private_subnets_without_public_ip(ecs: Deployed) -> None:
    service = ecs.named("service1-service")
    assert service.inputs["launchType"] == "FARGATE"
    network = service.inputs["networkConfiguration"]
    assert network["assignPublicIp"] is False
    assert network["subnets"] == [ecs.named(f"network-private-{i}").id for i in range(2)]
    assert network["securityGroups"] == [ecs.named("service1-alb-targets-sg").id]
    assert service.inputs["loadBalancers"] == [
        {"targetGroupArn": ecs.named("service1-alb-tg").outputs["arn"], "containerName": "app", "containerPort": 8080}
    ]
    assert service.inputs["cluster"] == ecs.named("service1-cluster").outputs["arn"]
    assert service.inputs["taskDefinition"] == ecs.named("service1-task").outputs["arn"]


def test_ecs_service_waits_for_the_listener(ecs: Deployed) -> None:
    assert ecs.named("service1-alb-listener").urn in ecs.named("service1-service").dependencies


def test_health_check_uses_the_configured_path(ecs: Deployed) -> None:
    assert ecs.named("service1-alb-tg").inputs["healthCheck"]["path"] == "/healthz"


def test_tasks_admit_the_container_port_only_from_the_alb(ecs: Deployed) -> None:
    task_sg = ecs.named("service1-alb-targets-sg")
    (ingress,) = rules_on(ecs, task_sg, "GroupIngress")
    assert ingress.inputs["referencedSecurityGroupId"] == ecs.named("service1-alb-sg").id
    assert (ingress.inputs["fromPort"], ingress.inputs["toPort"]) == (8080, 8080)


def test_task_definition_is_awsvpc_fargate_and_logs_to_its_group(ecs: Deployed) -> None:
    task = ecs.named("service1-task")
    assert task.inputs["networkMode"] == "awsvpc" and task.inputs["requiresCompatibilities"] == ["FARGATE"]
    assert (task.inputs["cpu"], task.inputs["memory"]) == ("256", "512")
    # Task families are per account and region: the resource prefix keeps two projects' apart.
    assert task.inputs["family"] == "proj-dev-service1"
    assert task.inputs["executionRoleArn"] == ecs.named("service1-execution-role").outputs["arn"]
    (container,) = json.loads(task.inputs["containerDefinitions"])
    assert container["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]
    log = container["logConfiguration"]
    assert log["logDriver"] == "awslogs"
    assert log["options"]["awslogs-group"] == ecs.named("service1-logs").outputs["name"]
    assert log["options"]["awslogs-region"] == "eu-west-1"


def test_log_retention_cluster_insights_and_execution_role(ecs: Deployed) -> None:
    assert ecs.named("service1-logs").inputs["retentionInDays"] == 30
    assert ecs.named("service1-cluster").inputs["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    trust = json.loads(ecs.named("service1-execution-role").inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "ecs-tasks.amazonaws.com"}]
    attachment = ecs.named("service1-execution-policy")
    assert attachment.inputs["policyArn"].endswith(":policy/service-role/AmazonECSTaskExecutionRolePolicy")
    assert attachment.inputs["role"] == ecs.named("service1-execution-role").outputs["name"]


def test_container_service_attributes_and_parents(ecs: Deployed) -> None:
    component = ecs.named("service1")
    assert component.type == "whitelabel:container_service:ContainerService"
    alb = ecs.named("service1-alb")
    assert alb.type == "whitelabel:internal_alb:InternalAlb" and alb.parent == component.urn
    for r in ecs.resources:
        if r.name.startswith("service1-alb-"):
            assert r.parent == alb.urn, r.name
        elif r.name.startswith("service1-"):
            assert r.parent == component.urn, r.name
    service: ContainerService = ecs.value
    assert resolve(service.log_group_name) == ecs.named("service1-logs").outputs["name"]
    assert resolve(service.cluster_name) == ecs.named("service1-cluster").outputs["name"]
    assert resolve(service.service_name) == ecs.named("service1-service").outputs["name"]


# -- EC2 web app -----------------------------------------------------------------------------------


def test_launch_template_resolves_the_ami_from_ssm_and_requires_imdsv2(ec2: Deployed) -> None:
    template = ec2.named("service2-lt")
    assert template.inputs["imageId"].startswith("resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-")
    assert template.inputs["metadataOptions"]["httpTokens"] == "required"
    assert template.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert template.inputs["vpcSecurityGroupIds"] == [ec2.named("service2-alb-targets-sg").id]
    assert template.inputs["iamInstanceProfile"] == {"arn": ec2.named("service2-instance-profile").outputs["arn"]}
    script = base64.b64decode(template.inputs["userData"]).decode()
    assert script.startswith("#!/bin/bash")
    assert "server.py 8000" in script and "systemctl enable --now webapp.service" in script


def test_auto_scaling_group_registers_with_the_target_group(ec2: Deployed) -> None:
    group = ec2.named("service2-asg")
    assert group.inputs["targetGroupArns"] == [ec2.named("service2-alb-tg").outputs["arn"]]
    assert group.inputs["healthCheckType"] == "ELB" and group.inputs["healthCheckGracePeriod"] > 0
    assert (group.inputs["minSize"], group.inputs["maxSize"], group.inputs["desiredCapacity"]) == (2, 4, 3)
    assert group.inputs["launchTemplate"] == {"id": ec2.named("service2-lt").id, "version": "$Latest"}
    assert group.inputs["vpcZoneIdentifiers"] == [ec2.named(f"network-private-{i}").id for i in range(2)]
    assert resolve(ec2.value.auto_scaling_group_name) == group.outputs["name"]


def test_a_one_instance_group_launches_the_replacement_before_terminating_the_instance(dev: StackRun) -> None:
    group = dev.named("service2-asg")
    assert group.inputs["minSize"] == 1  # dev's service2: one instance, the case that must not drop to zero
    refresh = group.inputs["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    # Minimum 100 %: nothing is terminated before its replacement is healthy; maximum 200 %: room to launch it.
    assert refresh["preferences"]["minHealthyPercentage"] == 100
    assert refresh["preferences"]["maxHealthyPercentage"] == 200
    # The same order when an instance fails its health check.
    assert group.inputs["instanceMaintenancePolicy"] == {"minHealthyPercentage": 100, "maxHealthyPercentage": 200}


def test_desired_capacity_is_left_to_aws_when_not_configured() -> None:
    settings = Service2Settings()
    run = with_network(lambda net: WebApp("service2", WebAppArgs.from_settings(settings, net)))
    assert "desiredCapacity" not in run.named("service2-asg").inputs


def test_instances_admit_the_port_only_from_the_alb_and_use_ssm(ec2: Deployed) -> None:
    (ingress,) = rules_on(ec2, ec2.named("service2-alb-targets-sg"), "GroupIngress")
    assert ingress.inputs["referencedSecurityGroupId"] == ec2.named("service2-alb-sg").id
    assert (ingress.inputs["fromPort"], ingress.inputs["toPort"]) == (8000, 8000)
    assert (
        ec2.named("service2-instance-ssm").inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    )
    trust = json.loads(ec2.named("service2-instance-role").inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "ec2.amazonaws.com"}]
    assert ec2.named("service2-lt").parent == ec2.named("service2").urn
    assert ec2.named("service2-alb").parent == ec2.named("service2").urn


# -- docs bucket -----------------------------------------------------------------------------------


def test_bucket_is_private_owner_enforced_encrypted_and_tls_only(docs: Deployed) -> None:
    bucket = docs.named("docs-bucket")
    block = docs.named("docs-public-access-block")
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(block.inputs[flag] is True for flag in flags) and block.inputs["bucket"] == bucket.id
    assert docs.named("docs-ownership").inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    (rule,) = docs.named("docs-encryption").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    policy = docs.named("docs-policy")
    assert block.urn in policy.dependencies
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    arn = bucket.outputs["arn"]
    assert statement == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_versioning_only_where_configured(docs: Deployed) -> None:
    assert docs.of_type("aws:s3/bucketVersioning:BucketVersioning") == []
    prod = docs_run(versioning=True)
    (versioning,) = prod.of_type("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}


def test_every_document_is_uploaded_under_its_relative_key_with_its_content_type(docs: Deployed) -> None:
    on_disk = sorted(p.relative_to(DOCUMENTS).as_posix() for p in DOCUMENTS.rglob("*") if p.is_file())
    objects = docs.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    assert sorted(o.inputs["key"] for o in objects) == on_disk
    types = {o.inputs["key"]: o.inputs["contentType"] for o in objects}
    assert types == {
        "guide.pdf": "application/pdf",
        "index.html": "text/html",
        "logo.png": "image/png",
        "style.css": "text/css",
    }
    assert all(o.inputs["bucket"] == docs.named("docs-bucket").id for o in objects)
    assert docs.named("docs-object-style.css").inputs["key"] == "style.css"
    assert docs.value.object_keys == on_disk


def test_read_role_is_for_api_gateway_and_grants_exactly_get_and_list(docs: Deployed) -> None:
    role = docs.named("docs-read-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    (policy,) = docs.of_type("aws:iam/rolePolicy:RolePolicy")
    assert policy.inputs["role"] == role.id
    arn = docs.named("docs-bucket").outputs["arn"]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    assert statements == [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{arn}/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": arn},
    ]
    assert resolve(docs.value.read_role_arn) == role.outputs["arn"]
    assert resolve(docs.value.bucket_name) == docs.named("docs-bucket").outputs["bucket"]


def test_docs_children_belong_to_the_component(docs: Deployed) -> None:
    component = docs.named("docs")
    assert component.type == "whitelabel:docs_bucket:DocsBucket"
    assert all(r.parent == component.urn for r in docs.resources if r.custom)


def test_document_files_uses_relative_posix_keys_and_skips_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "guides").mkdir()
    (tmp_path / "guides" / "start.md").write_text("# start")
    (tmp_path / "a.svg").write_text("<svg/>")
    (tmp_path / ".DS_Store").write_text("")
    (tmp_path / "blob.unknownext").write_text("")
    assert document_files(str(tmp_path)) == [
        ("a.svg", str(tmp_path / "a.svg"), "image/svg+xml"),
        ("blob.unknownext", str(tmp_path / "blob.unknownext"), "application/octet-stream"),
        ("guides/start.md", str(tmp_path / "guides" / "start.md"), "text/markdown"),
    ]


def test_the_default_folder_is_relative_to_the_project_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    keys = [key for key, _, _ in document_files(DocsSettings().folder)]
    assert keys == ["guide.pdf", "index.html", "logo.png", "style.css"]


def test_a_missing_folder_stops_before_any_resource() -> None:
    values = stack_file_config("dev")
    values["whitelabel-gateway:docs"] = {"folder": "no-such-documents"}
    mocks = AwsMocks("eu-west-1")
    with pytest.raises(pulumi.RunError) as error:
        run_program("dev", values, mocks=mocks)
    assert str(error.value) == (
        "whitelabel-gateway:docs.folder: 'no-such-documents' is not a folder of the repository; "
        "create it or set docs.folder"
    )
    assert mocks.registered == []


def test_the_component_refuses_a_missing_folder_in_the_same_one_line_shape() -> None:
    # A direct caller of the component (no config validation in front of it) gets the same line.
    with pytest.raises(pulumi.RunError) as error:
        DocsBucketArgs.from_settings(DocsSettings.model_construct(folder="no-such-documents"))
    assert str(error.value).startswith("whitelabel-gateway:docs.folder: 'no-such-documents' is not a folder")
    assert "\n" not in str(error.value)
