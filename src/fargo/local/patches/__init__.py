"""In-process fixes to ministack's emulation, applied before it serves.

fargo sends the emulator the templates it sends AWS, so where ministack falls
short of AWS the emulator is fixed here, never the template. This package runs
inside ministack's own virtualenv: it imports only the standard library and
ministack, never fargo.
"""

from collections.abc import Callable

from . import (
    acm,
    alb_data_plane,
    app_autoscaling,
    app_tier_replacement,
    change_sets,
    client_tokens,
    cloudfront,
    cloudwatch,
    codebuild,
    container_network,
    data_images,
    ec2_network,
    ecr_images,
    ecr_pulls,
    ecr_registry,
    ecs,
    ecs_awslogs,
    ecs_service_stabilization,
    ecs_task_health,
    elasticache,
    elb_target_health,
    generated_secrets,
    loopback_ports,
    provisioner_threads,
    queue_scaling,
    rds,
    rds_containers,
    route53,
    s3,
    scheduler,
    scheduler_runner,
    secrets_manager,
    ses,
    sns,
    stack_policy,
    task_ca_bundle,
    task_credentials,
    task_platforms,
    template_urls,
    templates,
)
from ._ministack import SUPPORTED_VERSION, PatchError, check_version

__all__ = ["PATCHES", "SUPPORTED_VERSION", "PatchError", "apply_all"]

# One function per ministack gap; the names are what the launcher's banner lists.
PATCHES: dict[str, Callable[[], None]] = {
    "null-values-refused": templates.refuse_null_values,
    "template-url-virtual-hosted": template_urls.read_virtual_hosted_urls,
    "ecs-task-definition-nested-keys": ecs.keep_nested_container_settings,
    "ecs-replacement-in-change-sets": ecs.report_ecs_replacement,
    "ec2-eip-nat-gateway-sg-rules": ec2_network.provision_network_types,
    "output-only-change-sets": change_sets.accept_output_only_change_sets,
    "change-set-by-stack-id": change_sets.find_change_sets_by_stack_id,
    # After output-only-change-sets, whose CreateChangeSet handler it wraps.
    "change-set-client-tokens": client_tokens.honour_client_tokens,
    "rds-replacement-in-change-sets": rds.report_database_replacement,
    "rds-update-replace-snapshot": rds.snapshot_replaced_databases,
    "secret-ref-is-arn": secrets_manager.ref_secret_as_arn,
    "acm-dns-validation": acm.validate_through_dns,
    "acm-certificate-in-use": acm.count_load_balancers_as_users,
    "secret-generation-options": generated_secrets.generate_with_every_option,
    # After rds-update-replace-snapshot, whose policy recorder it reads.
    "elasticache-serverless-cache": elasticache.provision_serverless_caches,
    "elasticache-snapshots": elasticache.snapshot_node_based_caches,
    "elasticache-start-timeout": elasticache.wait_longer_for_cache_starts,
    "application-autoscaling": app_autoscaling.serve_application_autoscaling,
    "cloudwatch-metric-math-alarms": cloudwatch.allow_metric_math_alarms,
    # After application-autoscaling, whose policies its alarms invoke.
    "alarms-scale-services": queue_scaling.scale_on_alarms,
    "scheduler-schedule-shapes": scheduler.provision_schedules,
    "scheduler-runs-schedules": scheduler_runner.run_schedules,
    "ses-dkim-tokens": ses.publish_dkim_tokens,
    "s3-bucket-configuration": s3.apply_bucket_configuration,
    "s3-bucket-policy-ref": s3.ref_bucket_policy_as_bucket,
    "sns-topic-attributes": sns.set_topic_attributes,
    "app-tier-replacement-in-change-sets": app_tier_replacement.classify_app_tier_changes,
    "stack-policy-enforced": stack_policy.enforce_stack_policies,
    "ecr-registry-credentials": ecr_registry.authenticate_registry,
    "ecr-describe-missing-images": ecr_images.refuse_missing_images,
    "ecr-untag-by-tag": ecr_images.untag_by_tag,
    "codebuild-runs-builds": codebuild.run_builds,
    "cloudfront-etag-if-match": cloudfront.refuse_stale_if_match,
    "route53-cname-alone": route53.refuse_cname_beside_other_sets,
    "data-image-substitutions": data_images.run_local_data_images,
    "published-ports-on-loopback": loopback_ports.publish_on_loopback,
    "rds-stack-databases-run": rds_containers.run_stack_databases,
    "blocking-provisioners-on-threads": (
        provisioner_threads.keep_blocking_provisioners_off_the_loop
    ),
    "emulator-on-container-network": container_network.place_emulator_on_network,
    "ecs-pulls-from-emulator-ecr": ecr_pulls.pull_images_from_emulator_ecr,
    # After ecs-pulls-from-emulator-ecr, whose container start it wraps: it sees the ECR name.
    "ecs-tasks-run-host-arch-variant": task_platforms.run_host_variants,
    "ecs-tasks-trust-emulator-cas": task_ca_bundle.inject_ca_bundle,
    "ecs-task-credentials": task_credentials.give_tasks_credentials,
    "alb-data-plane-any-account": alb_data_plane.serve_any_account,
    "elb-target-health-checks": elb_target_health.check_target_health,
    "ecs-container-health-checks": ecs_task_health.run_container_health_checks,
    "ecs-rollout-waits-for-health": ecs_task_health.complete_rollouts_on_health,
    "ecs-essential-container-reason": ecs_task_health.say_essential_container_in_task_exited,
    "ecs-removed-container-stops-task": ecs_task_health.stop_tasks_whose_container_is_gone,
    "ecs-first-deployment-in-progress": (
        ecs_service_stabilization.start_first_deployments_in_progress
    ),
    "ecs-service-grace-period": ecs_service_stabilization.keep_health_check_grace_period,
    # After ecs-service-grace-period, whose create provisioner it wraps.
    "ecs-service-waits-for-stability": ecs_service_stabilization.wait_for_stable_services,
    "ecs-awslogs-group-must-exist": ecs_awslogs.fail_tasks_without_their_log_group,
    "ecs-output-logged-before-stopped": ecs_awslogs.deliver_output_before_stopped,
    "ecs-awslogs-whole-lines": ecs_awslogs.forward_whole_lines,
}


def apply_all() -> list[str]:
    """Check the ministack release, apply every patch, name what was applied."""
    check_version()
    for patch in PATCHES.values():
        patch()
    return list(PATCHES)
