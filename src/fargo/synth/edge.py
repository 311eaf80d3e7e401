"""Edge stack: a CloudFront distribution fargo owns, in one of two shapes.

`cdn: { static }`: a static site in a private S3 bucket, and the API's path (`cdn.path`,
default `/api/*`) routed to the load balancer. `cdn: { app }`: the load balancer itself is
the default behavior (an SSR web app or an API), and `assets` (built files such as
`/_next/static/*`) come from the private bucket under their path.

Only CloudFront reads the bucket, through an origin access control; the API origin gets a
secret header the load balancer requires, so the ALB answers only requests that came
through CloudFront. DNS records and certificates are made outside CloudFormation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import GetAtt, Ref, Sub, Template, cloudfront, s3

from fargo.model.app import (
    ALL_VIEWER_EXCEPT_HOST_POLICY,
    CACHING_DISABLED_POLICY,
    ORIGIN_VERIFY_HEADER,
    App,
    Cdn,
    StackKind,
)
from fargo.synth import origin_verify
from fargo.synth import outputs as out
from fargo.synth.buckets import private_bucket, tls_only
from fargo.synth.common import Inputs, add, finish, new_template, output, skip_check
from fargo.synth.site_function import RUNTIME, request_function
from fargo.synth.stack import StackTemplate

# Managed CloudFront policies of the site's behavior: cache by path only, compressed
# (CachingOptimized), and the standard security headers (HSTS, nosniff, frame options,
# referrer policy) on every file of the site (SecurityHeadersPolicy).
CACHING_OPTIMIZED_POLICY = "658327ea-f89d-4fab-a63d-7e88639e58f6"
SECURITY_HEADERS_POLICY = "67f7725c-6f97-4210-82d7-5512b31e9d03"
# The app's default behavior caches only what the app's Cache-Control allows (TTL 0 when it
# sends none), keyed on Host, the method-override headers, every cookie and every query
# string: an SSR page or an API answer differs by query string (?page=2), which plain
# UseOriginCacheControlHeaders would leave out of the key.
USE_ORIGIN_CACHE_CONTROL_QUERY_STRINGS_POLICY = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"

SITE_ORIGIN_ID = "site"
# The distribution answers IPv6 too (AAAA); output as DistributionIpv6Enabled.
IPV6_ENABLED = True
# The publisher's record of what it uploaded; CloudFront may not serve it.
SITE_MANIFEST_PREFIX = ".fargo/"

ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
READ_METHODS = ["GET", "HEAD"]


def synth_edge(app: App) -> StackTemplate:
    cdn = app.cdn
    if cdn is None or not cdn.owned:
        raise ValueError("the edge stack exists only with cdn: { static } or { app }")
    what = "CloudFront distribution in front of the app" if cdn.app else "static site"
    template = new_template(app, StackKind.EDGE, f"{what}: bucket and distribution")
    inputs = Inputs(template)
    files: _Files | None = None
    if cdn.static is not None or cdn.assets is not None:
        files = _Files(_site_bucket(template), _access_control(template, app), None)
    if cdn.static is not None and files is not None:
        files = _Files(files.bucket, files.access, _site_function(template, app, cdn))
    distribution = (
        _app_distribution(template, app, cdn, inputs, files)
        if cdn.app
        else _distribution(template, app, cdn, inputs, files)
    )
    if files is not None:
        _bucket_policy(template, files.bucket)
    output(template, out.DISTRIBUTION_ID, Ref(distribution))
    output(template, out.DISTRIBUTION_DOMAIN_NAME, GetAtt(distribution, "DomainName"))
    # Whether the distribution answers IPv6: Route 53 then writes an AAAA alias to it too.
    output(template, out.DISTRIBUTION_IPV6_ENABLED, "true" if IPV6_ENABLED else "false")
    output(template, out.DISTRIBUTION_ARN, _distribution_arn())
    if files is not None:
        output(template, out.SITE_BUCKET_NAME, Ref(files.bucket))
    return finish(template, app, StackKind.EDGE, inputs.values)


@dataclass(frozen=True)
class _Files:
    """The bucket side of the distribution: the bucket, the access control that signs
    CloudFront's reads, and the static site's request function."""

    bucket: s3.Bucket
    access: cloudfront.OriginAccessControl
    function: cloudfront.Function | None


def _access_control(template: Template, app: App) -> cloudfront.OriginAccessControl:
    return add(
        template,
        cloudfront.OriginAccessControl(
            "SiteOriginAccessControl",
            OriginAccessControlConfig=cloudfront.OriginAccessControlConfig(
                Name=f"{app.name}-{app.env}-site",
                OriginAccessControlOriginType="s3",
                SigningBehavior="always",
                SigningProtocol="sigv4",
                Description=f"CloudFront reads the {app.name}/{app.env} site bucket",
            ),
        ),
        "lets the distribution, and only it, read the site bucket (signed requests)",
    )


def _site_function(template: Template, app: App, cdn: Cdn) -> cloudfront.Function:
    return add(
        template,
        cloudfront.Function(
            "SiteRequestFunction",
            Name=f"{app.name}-{app.env}-site-request",
            AutoPublish=True,
            FunctionCode=request_function(cdn.spa),
            FunctionConfig=cloudfront.FunctionConfig(
                Comment="single-page app fallback" if cdn.spa else "directory index pages",
                Runtime=RUNTIME,
            ),
        ),
        "maps site paths to files: "
        + ("every route to /index.html" if cdn.spa else "a directory to its index.html"),
    )


def _distribution_arn() -> Sub:
    # CloudFront has no GetAtt for the ARN; distributions are global, so no region.
    return Sub("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}")


def _site_bucket(template: Template) -> s3.Bucket:
    # Nothing is destroyed without a flag: destroy reports the bucket and leaves it.
    bucket = private_bucket("SiteBucket")
    add(template, bucket, "the static site's files: private, read only by CloudFront")
    skip_check(
        bucket,
        "CKV_AWS_18",
        "access logging needs a second bucket and bills per request; CloudFront sees every "
        "request to this bucket, and its standard logs can be turned on when needed",
    )
    skip_check(
        bucket,
        "CKV_AWS_21",
        "every publish uploads the site from its build directory, which is the source of "
        "truth; old versions would only accumulate storage",
    )
    return bucket


def _bucket_policy(template: Template, bucket: s3.Bucket) -> None:
    objects = Sub("${SiteBucket.Arn}/*")
    from_distribution = {"StringEquals": {"AWS:SourceArn": _distribution_arn()}}
    cloudfront_principal = {"Service": "cloudfront.amazonaws.com"}
    add(
        template,
        s3.BucketPolicy(
            "SiteBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    tls_only(bucket),
                    {
                        "Sid": "CloudFrontReadsTheSite",
                        "Effect": "Allow",
                        "Principal": cloudfront_principal,
                        "Action": "s3:GetObject",
                        "Resource": objects,
                        "Condition": from_distribution,
                    },
                    {
                        # Without it S3 answers 403 for a missing file; with it, 404.
                        "Sid": "CloudFrontSeesMissingFiles",
                        "Effect": "Allow",
                        "Principal": cloudfront_principal,
                        "Action": "s3:ListBucket",
                        "Resource": GetAtt(bucket, "Arn"),
                        "Condition": from_distribution,
                    },
                    {
                        # The publisher's manifest lives in the bucket but is not the site.
                        "Sid": "PublisherManifestIsNotServed",
                        "Effect": "Deny",
                        "Principal": cloudfront_principal,
                        "Action": "s3:GetObject",
                        "Resource": Sub(f"${{SiteBucket.Arn}}/{SITE_MANIFEST_PREFIX}*"),
                    },
                ],
            },
        ),
        "only this distribution reads the site, over TLS; the publisher's manifest is hidden",
    )


def _viewer(app: App, inputs: Inputs) -> dict[str, Any]:
    """Aliases and viewer certificate: the site host with the us-east-1 certificate when
    there is a domain, else the distribution's own *.cloudfront.net name."""
    if app.domain is None:
        return {
            "ViewerCertificate": cloudfront.ViewerCertificate(CloudFrontDefaultCertificate=True)
        }
    return {
        "Aliases": [app.domain.site],
        "ViewerCertificate": cloudfront.ViewerCertificate(
            AcmCertificateArn=inputs.certificate("cloudfront"),
            SslSupportMethod="sni-only",
            MinimumProtocolVersion="TLSv1.2_2021",
        ),
    }


def _bucket_origin(files: _Files) -> cloudfront.Origin:
    return cloudfront.Origin(
        Id=SITE_ORIGIN_ID,
        DomainName=GetAtt(files.bucket, "RegionalDomainName"),
        OriginAccessControlId=GetAtt(files.access, "Id"),
        # Empty: the origin access control signs the requests, not a legacy origin access
        # identity.
        S3OriginConfig=cloudfront.S3OriginConfig(OriginAccessIdentity=""),
    )


def _distribution(
    template: Template, app: App, cdn: Cdn, inputs: Inputs, files: _Files | None
) -> cloudfront.Distribution:
    if files is None or files.function is None:
        raise ValueError("a static site needs its bucket and request function")
    return _new_distribution(
        template,
        app,
        inputs,
        what="site and API",
        description=f"serves the site, and {cdn.path} from the load balancer, over HTTPS",
        DefaultRootObject="index.html",
        Origins=[_bucket_origin(files), _api_origin(app, cdn, inputs)],
        DefaultCacheBehavior=cloudfront.DefaultCacheBehavior(
            **_bucket_behavior(),
            FunctionAssociations=[
                cloudfront.FunctionAssociation(
                    EventType="viewer-request",
                    FunctionARN=GetAtt(files.function, "FunctionMetadata.FunctionARN"),
                )
            ],
        ),
        CacheBehaviors=[
            cloudfront.CacheBehavior(
                PathPattern=cdn.path, **_load_balancer_behavior(cdn, CACHING_DISABLED_POLICY)
            )
        ],
    )


def _app_distribution(
    template: Template, app: App, cdn: Cdn, inputs: Inputs, files: _Files | None
) -> cloudfront.Distribution:
    """The app itself as the default behavior: every method, the app's own Cache-Control,
    every viewer header but Host by the origin request policy; the assets from the bucket."""
    origins = [_api_origin(app, cdn, inputs)]
    behaviors = []
    if files is not None and cdn.assets is not None:
        origins.append(_bucket_origin(files))
        behaviors.append(
            cloudfront.CacheBehavior(PathPattern=cdn.assets.path, **_bucket_behavior())
        )
    extra: dict[str, Any] = {"CacheBehaviors": behaviors} if behaviors else {}
    served = f", and {cdn.assets.path} from the bucket" if cdn.assets else ""
    return _new_distribution(
        template,
        app,
        inputs,
        what="app",
        description=f"serves the app from the load balancer{served}, over HTTPS",
        Origins=origins,
        DefaultCacheBehavior=cloudfront.DefaultCacheBehavior(
            **_load_balancer_behavior(cdn, USE_ORIGIN_CACHE_CONTROL_QUERY_STRINGS_POLICY)
        ),
        **extra,
    )


def _new_distribution(
    template: Template, app: App, inputs: Inputs, *, what: str, description: str, **config: Any
) -> cloudfront.Distribution:
    """What both shapes share: HTTP/2 and 3, IPv6, the cheapest price class (North America
    and Europe edges), the viewer side of `_viewer`, and the checks skipped and why."""
    distribution = cloudfront.Distribution(
        "Distribution",
        DistributionConfig=cloudfront.DistributionConfig(
            Comment=f"fargo {app.name}/{app.env}: {what}",
            Enabled=True,
            HttpVersion="http2and3",
            IPV6Enabled=IPV6_ENABLED,
            PriceClass="PriceClass_100",
            **config,
            **_viewer(app, inputs),
        ),
    )
    add(template, distribution, description)
    _skip_distribution_checks(distribution, has_domain=app.domain is not None)
    return distribution


def _behavior(origin_id: str, methods: list[str], cache_policy: str) -> dict[str, Any]:
    """What every behavior of fargo's distributions shares: viewers on HTTPS (plain HTTP is
    redirected), answers compressed, only GET and HEAD cached. The fields of a default
    behavior and a path's behavior are the same; the path is the caller's."""
    return {
        "TargetOriginId": origin_id,
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": methods,
        "CachedMethods": READ_METHODS,
        "CachePolicyId": cache_policy,
        "Compress": True,
    }


def _bucket_behavior() -> dict[str, Any]:
    """The bucket's files: read-only, cached by path, with the standard security headers."""
    return {
        **_behavior(SITE_ORIGIN_ID, READ_METHODS, CACHING_OPTIMIZED_POLICY),
        "ResponseHeadersPolicyId": SECURITY_HEADERS_POLICY,
    }


def _load_balancer_behavior(cdn: Cdn, cache_policy: str) -> dict[str, Any]:
    """The load balancer: every method, every viewer header but Host (CloudFront names the
    origin, or the cache policy forwards the viewer's Host)."""
    return {
        **_behavior(cdn.origin_id, ALL_METHODS, cache_policy),
        "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_POLICY,
    }


def _api_origin(app: App, cdn: Cdn, inputs: Inputs) -> cloudfront.Origin:
    # CloudFront sends the secret on every request to the ALB; the ALB's rules require it.
    verify = origin_verify.header_value(inputs)
    if cdn.origin_host is not None:
        # The ALB's certificate names this host, so CloudFront connects by that name.
        domain: object = cdn.origin_host
        connection = cloudfront.CustomOriginConfig(
            OriginProtocolPolicy="https-only", OriginSSLProtocols=["TLSv1.2"]
        )
    else:
        # No domain, no certificate: the ALB's own name over plain HTTP.
        domain = inputs.network(out.LOAD_BALANCER_DNS_NAME)
        connection = cloudfront.CustomOriginConfig(OriginProtocolPolicy="http-only")
    return cloudfront.Origin(
        Id=cdn.origin_id,
        DomainName=domain,
        CustomOriginConfig=connection,
        OriginCustomHeaders=[
            cloudfront.OriginCustomHeader(HeaderName=ORIGIN_VERIFY_HEADER, HeaderValue=verify)
        ],
    )


def _skip_distribution_checks(distribution: cloudfront.Distribution, *, has_domain: bool) -> None:
    for check, reason in (
        (
            "CKV_AWS_68",
            "a WAF web ACL costs $5 a month plus $1 per rule and per million requests; "
            "attach one in the console or with a firewall manager policy when needed",
        ),
        (
            "CKV_AWS_86",
            "standard logs need a log bucket with ACLs enabled and bill storage; CloudFront's "
            "free metrics cover requests and error rates",
        ),
    ):
        skip_check(distribution, check, reason)
    if not has_domain:
        skip_check(
            distribution,
            "CKV_AWS_174",
            "without a domain the distribution answers on its *.cloudfront.net name, whose "
            "certificate and TLS policy are CloudFront's own; with a domain, an ACM "
            "certificate and TLSv1.2_2021 are used",
        )
