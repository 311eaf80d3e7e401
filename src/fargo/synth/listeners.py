"""The load balancer's listeners: HTTP on 80 and, with a domain, HTTPS on 443.

Without a domain, HTTP on 80 serves the API. With one, HTTPS on 443 serves it, with the
domain's ACM certificate and a TLS 1.2+ policy, and HTTP only redirects to it. The listener
that serves the API answers 404 to what no service routes, or 403 when a CDN is in front:
then every rule also requires CloudFront's secret header, so a request that comes around
the CDN is refused.
"""

from __future__ import annotations

from troposphere import Ref, Template
from troposphere import elasticloadbalancingv2 as elbv2

from fargo.model.app import App
from fargo.synth import outputs as out
from fargo.synth.common import Inputs, add, skip_check

# TLS 1.3 and 1.2 only, forward-secret ciphers: AWS's recommended policy for new listeners.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def api_listener_arn(app: App) -> str:
    """The network output naming the listener the services' rules attach to."""
    return out.HTTPS_LISTENER_ARN if app.domain is not None else out.HTTP_LISTENER_ARN


def add_listeners(template: Template, app: App, alb: Ref, inputs: Inputs) -> dict[str, Ref]:
    """Add the listeners; their ARNs by output key, in output order."""
    http = add(
        template,
        elbv2.Listener(
            "HttpListener",
            LoadBalancerArn=alb,
            Port=80,
            Protocol="HTTP",
            DefaultActions=[_redirect_to_https() if app.domain else _unrouted(app)],
        ),
        "redirects HTTP to HTTPS"
        if app.domain
        else "HTTP listener; each service adds a rule for its path or host",
    )
    outputs = {out.HTTP_LISTENER_ARN: Ref(http)}
    if app.domain is None:
        for check in ("CKV_AWS_2", "CKV_AWS_103"):
            skip_check(
                http,
                check,
                "plain HTTP until the app has a domain and an ACM certificate; with one, this "
                "listener redirects to an HTTPS listener with a TLS 1.2+ policy",
            )
        return outputs
    https = add(
        template,
        elbv2.Listener(
            "HttpsListener",
            LoadBalancerArn=alb,
            Port=443,
            Protocol="HTTPS",
            SslPolicy=TLS_POLICY,
            Certificates=[elbv2.Certificate(CertificateArn=inputs.certificate("regional"))],
            DefaultActions=[_unrouted(app)],
        ),
        f"HTTPS listener for {app.domain.api}; each service adds a rule for its path or host",
    )
    outputs[out.HTTPS_LISTENER_ARN] = Ref(https)
    return outputs


def _unrouted(app: App) -> elbv2.Action:
    """What the API's listener answers when no rule matches."""
    status, body = ("403", "forbidden") if app.cdn is not None else ("404", "not found")
    return elbv2.Action(
        Type="fixed-response",
        FixedResponseConfig=elbv2.FixedResponseConfig(
            StatusCode=status, ContentType="text/plain", MessageBody=body
        ),
    )


def _redirect_to_https() -> elbv2.Action:
    # Host, path and query stay as the client sent them (the defaults #{host}, /#{path}, ...).
    return elbv2.Action(
        Type="redirect",
        RedirectConfig=elbv2.RedirectConfig(Protocol="HTTPS", Port="443", StatusCode="HTTP_301"),
    )
