"""The edge steps of a deploy that CloudFormation does not do, in their order:

1. certificates, validated through the DNS provider, before any stack changes (the load
   balancer's HTTPS listener and the site's distribution take their ARNs as parameters);
2. after the stacks: the DNS records (API host, site host, SES DKIM and MAIL FROM);
3. the splice of /api/* into a distribution fargo does not own, once the API is healthy,
   and with `spa_errors: function` its SPA error pages replaced by a function;
4. the static site's files, or the assets of `cdn: { app }`.

Each step is idempotent and records what it made in the ledger (an SSM parameter), which is
what `destroy` undoes, in reverse.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field

from fargo.aws.facade import Aws
from fargo.edge import certificates as acm
from fargo.edge import spa_errors
from fargo.edge.diff import config_diff
from fargo.edge.distribution import attach, detach, preview, update
from fargo.edge.dns.aliases import alias_hosts
from fargo.edge.dns.errors import MissingDnsCredentials
from fargo.edge.dns.factory import provider_from_env
from fargo.edge.dns.provider import DnsProvider
from fargo.edge.dns.records import TARGET_TYPES, DnsRecord
from fargo.edge.health import wait_for_api
from fargo.edge.ledger import EdgeLedger, LedgerStore, SplicedOrigin
from fargo.edge.site import SiteSource, preview_site, publish_site
from fargo.edge.spa_function import delete_function, ensure_function, function_name
from fargo.edge.splice import ApiOrigin
from fargo.edge.wanted import wanted_records
from fargo.model.app import ORIGIN_VERIFY_HEADER, App
from fargo.outputs import DeployedOutputs
from fargo.progress import Reporter
from fargo.status import containers_running
from fargo.synth import outputs as out

# CloudFront reads certificates only from us-east-1.
CLOUDFRONT_REGION = "us-east-1"


@dataclass
class EdgeResult:
    certificates: dict[str, str] = field(default_factory=dict)
    records_written: list[DnsRecord] = field(default_factory=list)
    records_removed: list[DnsRecord] = field(default_factory=list)
    spliced: bool = False
    splice_diff: list[str] = field(default_factory=list)
    site_uploaded: list[str] = field(default_factory=list)
    site_deleted: list[str] = field(default_factory=list)
    site_invalidated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> tuple[str, ...]:
        """What changed, one line each, for deploy's report."""
        return (
            *(f"DNS {r} written" for r in self.records_written),
            *(f"DNS {r} removed" for r in self.records_removed),
            *(f"CloudFront {line}" for line in (self.splice_diff if self.spliced else [])),
            *(f"site: uploaded {key}" for key in self.site_uploaded),
            *(f"site: deleted {key}" for key in self.site_deleted),
            *(f"site: invalidated {path}" for path in self.site_invalidated),
        )


class EdgeStage:
    def __init__(
        self,
        app: App,
        aws: Aws,
        aws_in: Callable[[str], Aws],
        reporter: Reporter,
        *,
        emulator: bool,
        poll_seconds: float,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.aws = aws
        self.aws_in = aws_in
        self._cloudfront_aws: Aws | None = None
        # A certificate's validation records never change: read once per command.
        self._validation: dict[str, list[DnsRecord]] = {}
        self.reporter = reporter
        self.emulator = emulator
        self.poll_seconds = poll_seconds
        self._environ = os.environ if environ is None else environ
        self._dns: DnsProvider | None = None
        self.ledger = LedgerStore(aws, app)

    @property
    def needed(self) -> bool:
        return self.app.domain is not None or self.app.cdn is not None

    @property
    def dns(self) -> DnsProvider:
        if self._dns is None:
            if self.app.domain is None:
                raise ValueError("no domain: no DNS provider")
            self._dns = provider_from_env(self.app.domain.dns, self._environ, self.aws)
        return self._dns

    # -- 1. before the stacks ------------------------------------------------------------

    def check(self) -> None:
        """Refuse, before anything changes, an apex alias the DNS provider cannot serve,
        and a splice that would conflict (the path routed to another origin, an origin id
        taken). The conflict does not depend on the origin's address or secret, which the
        stacks have yet to make."""
        self._check_aliases()
        cdn = self.app.cdn
        if cdn is None or cdn.existing is None:
            return
        preview(self.aws, cdn.existing, self._origin("load-balancer.invalid", ""))
        if cdn.spa_errors:
            self._spa_errors_diff(cdn.existing)

    def certificate_names(self) -> dict[str, list[str]]:
        """The certificates the app needs, by scope, and the names each one covers."""
        domain = self.app.domain
        if domain is None:
            return {}
        # Without a load balancer there is no host to name, and no regional certificate.
        hosts = self.app.regional_certificate_hosts
        wanted = {"regional": list(hosts)} if hosts else {}
        if self.app.cdn is not None and self.app.cdn.owned:
            wanted["cloudfront"] = [domain.site]
        return wanted

    def ensure_certificate(self, scope: str, names: list[str]) -> str:
        """One issued certificate's ARN, requested and validated if need be; in the ledger."""
        domain = self.app.domain
        if domain is None:
            raise ValueError("no domain: no certificate")
        ledger = self.ledger.read()
        tags = {"fargo:app": self.app.name, "fargo:env": self.app.env}
        arn = acm.ensure_certificate(
            self._aws_for(scope),
            names=names,
            zone=domain.name,
            dns=self.dns,
            tags={**tags, "fargo:scope": scope},
            reporter=self.reporter,
            poll_seconds=self.poll_seconds,
            timeout_seconds=3600,
        )
        ledger.certificates[scope] = arn
        ledger.remember(self._validation_for(scope, arn))
        ledger.zone, ledger.dns = domain.name, domain.dns
        self.ledger.write(ledger)
        return arn

    def _check_aliases(self) -> None:
        domain = self.app.domain
        if domain is not None and alias_hosts(domain, self._pointed_hosts()):
            self.dns.check_alias(domain.name)

    def _pointed_hosts(self) -> tuple[str, ...]:
        """The hosts fargo points at the load balancer or the site's distribution."""
        domain = self.app.domain
        if domain is None:
            return ()
        site = (domain.site,) if self.app.cdn is not None and self.app.cdn.owned else ()
        return (*self.app.api_hosts, *site)

    # -- 2-4. after the stacks -----------------------------------------------------------

    def publish_records(self, outputs: DeployedOutputs, result: EdgeResult) -> None:
        """The wanted DNS records written, the ones an earlier manifest wanted removed."""
        ledger = self.ledger.read()
        result.certificates = dict(ledger.certificates)
        self._publish_records(outputs, ledger, result)
        self.ledger.write(ledger)

    def splice(self, outputs: DeployedOutputs, result: EdgeResult) -> None:
        """The API spliced into the distribution fargo does not own, its SPA error pages
        replaced with `spa_errors: function`; an earlier splice the manifest dropped undone."""
        ledger = self.ledger.read()
        self._splice(outputs, ledger, result)
        self._replace_spa_errors(ledger, result)
        self.ledger.write(ledger)

    def _publish_records(
        self, outputs: DeployedOutputs, ledger: EdgeLedger, result: EdgeResult
    ) -> None:
        domain = self.app.domain
        wanted = wanted_records(self.app, outputs)
        # Records an earlier manifest wanted (a renamed API host, a dropped site) go. One
        # at a name a wanted record takes with another type (a CNAME that is now an alias)
        # goes first: a name holding a CNAME holds nothing else.
        validation = set(self._validation_records(ledger))
        stale = [r for r in ledger.records if r not in wanted and r not in validation]
        taken = {r.name for r in wanted}
        moved = [r for r in stale if r.name in taken and r.type in TARGET_TYPES]
        self._remove(moved, ledger, result)
        if domain is not None and wanted:
            result.records_written = self.dns.upsert(domain.name, wanted)
            ledger.zone, ledger.dns = domain.name, domain.dns
            ledger.remember(wanted)
        self._remove([r for r in stale if r not in moved], ledger, result)

    def _remove(self, records: list[DnsRecord], ledger: EdgeLedger, result: EdgeResult) -> None:
        if records and ledger.zone:
            removed = self._dns_for_ledger(ledger).delete(ledger.zone, records)
            result.records_removed.extend(removed)
            ledger.forget(records)

    def _validation_records(self, ledger: EdgeLedger) -> list[DnsRecord]:
        return [
            record
            for scope, arn in ledger.certificates.items()
            for record in self._validation_for(scope, arn)
        ]

    def _validation_for(self, scope: str, arn: str) -> list[DnsRecord]:
        if arn not in self._validation:
            self._validation[arn] = acm.validation_records(self._aws_for(scope), arn)
        return self._validation[arn]

    def _aws_for(self, scope: str) -> Aws:
        """Where a certificate of `scope` lives: CloudFront's in us-east-1, else the app's
        region. One facade (and client) per region for the whole command."""
        if scope != "cloudfront":
            return self.aws
        if self._cloudfront_aws is None:
            self._cloudfront_aws = self.aws_in(CLOUDFRONT_REGION)
        return self._cloudfront_aws

    def _splice(self, outputs: DeployedOutputs, ledger: EdgeLedger, result: EdgeResult) -> None:
        cdn = self.app.cdn
        wanted = cdn.existing if cdn is not None else None
        previous = ledger.splice
        # A splice the manifest no longer asks for (or into another distribution) comes out.
        if previous is not None and (
            cdn is None
            or previous.distribution != wanted
            or (previous.origin_id, previous.path) != (cdn.origin_id, cdn.path)
        ):
            undone = detach(self.aws, previous.distribution, previous.origin_id, previous.path)
            result.spliced = result.spliced or undone.changed
            result.splice_diff.extend(undone.diff)
            ledger.splice = None
            self.ledger.write(ledger)
        if cdn is None or wanted is None:
            return
        cluster = outputs.network.cluster_name
        if self.emulator and not (cluster and containers_running(self.aws, cluster)):
            self.reporter.note(
                "the emulator runs no containers: not waiting for the API's health check "
                "before the CloudFront splice"
            )
        else:
            wait_for_api(
                self.aws,
                self.app,
                outputs,
                self.reporter,
                poll_seconds=self.poll_seconds,
                timeout_seconds=900,
            )
        done = attach(self.aws, wanted, self.api_origin(outputs))
        result.spliced = result.spliced or done.changed
        result.splice_diff.extend(done.diff)
        ledger.splice = SplicedOrigin(wanted, cdn.origin_id, cdn.path)

    def api_origin(self, outputs: DeployedOutputs) -> ApiOrigin:
        """The ALB as CloudFront reaches it: by the API host over HTTPS when a certificate
        names it, else by the load balancer's own name over HTTP."""
        cdn = self.app.cdn
        if cdn is None:
            raise ValueError("no cdn")
        network = outputs.network
        secret = self.aws.call(
            "secretsmanager", "get_secret_value", SecretId=network.origin_verify_secret_arn
        )["SecretString"]
        balancer = network.load_balancer_dns_name
        if balancer is None:  # a cdn in front of an API implies a load balancer
            raise network.missing(out.LOAD_BALANCER_DNS_NAME)
        return self._origin(balancer, secret)

    def _origin(self, load_balancer: str, header_value: str) -> ApiOrigin:
        cdn = self.app.cdn
        if cdn is None:
            raise ValueError("no cdn")
        return ApiOrigin(
            origin_id=cdn.origin_id,
            domain_name=cdn.origin_host or load_balancer,
            https=cdn.origin_host is not None,
            header_name=ORIGIN_VERIFY_HEADER,
            header_value=header_value,
            path_pattern=cdn.path,
        )

    def _replace_spa_errors(self, ledger: EdgeLedger, result: EdgeResult) -> None:
        """`spa_errors: function`: the SPA error pages out, the function on the default
        behavior, and what was there in the ledger. Undone when the manifest drops it."""
        cdn = self.app.cdn
        wanted = cdn.existing if cdn is not None and cdn.spa_errors else None
        previous = ledger.spa_errors
        if previous is not None and previous.distribution != wanted:
            result.splice_diff.extend(self._restore_spa_errors(ledger, result))
        if wanted is None:
            return
        name = function_name(self.app)
        arn = ensure_function(self.aws, name)
        records: list[spa_errors.ReplacedErrorPages] = []

        def change(config: dict[str, object]) -> dict[str, object]:
            replaced, record = spa_errors.replace(config, wanted, name, arn)
            records.append(record)
            return replaced

        done = update(self.aws, wanted, change)
        result.spliced = result.spliced or done.changed
        result.splice_diff.extend(done.diff)
        if done.changed and ledger.spa_errors is None:
            # The config as it was before fargo's first change: destroy restores exactly it.
            ledger.spa_errors = records[-1]
            self.ledger.write(ledger)

    def _restore_spa_errors(self, ledger: EdgeLedger, result: EdgeResult | None) -> list[str]:
        """The recorded error pages back, fargo's function off and deleted."""
        record = ledger.spa_errors
        if record is None:
            return []
        undone = update(self.aws, record.distribution, lambda c: spa_errors.restore(c, record))
        if result is not None:
            result.spliced = result.spliced or undone.changed
        done = [
            f"CloudFront {record.distribution}: restored its custom error responses"
            if undone.found
            else f"CloudFront {record.distribution}: not found, nothing to restore"
        ]
        detached = record.distribution if undone.found else None
        if delete_function(
            self.aws, record.function_name, detached_from=detached, poll_seconds=self.poll_seconds
        ):
            done.append(f"CloudFront function {record.function_name} deleted")
        ledger.spa_errors = None
        self.ledger.write(ledger)
        return done

    def _spa_errors_diff(self, distribution: str) -> list[str]:
        """What `spa_errors: function` would change, read-only; raises on a conflict."""
        reply = self.aws.call("cloudfront", "get_distribution_config", Id=distribution)
        config = reply["DistributionConfig"]
        name = function_name(self.app)
        arn = spa_errors.attached_arn(config, name) or f"<function {name}>"
        replaced, _ = spa_errors.replace(config, distribution, name, arn)
        return config_diff(config, replaced)

    def site_source(self, bucket: str) -> SiteSource | None:
        """The directory published to the bucket, if any, and where it goes."""
        cdn = self.app.cdn
        if cdn is not None and cdn.static is not None:
            return SiteSource(cdn.static, bucket)
        if cdn is not None and cdn.assets is not None:
            assets = cdn.assets
            return SiteSource(assets.directory, bucket, assets.key_prefix, "cdn.assets.dir")
        return None

    def publish_site(self, outputs: DeployedOutputs, result: EdgeResult) -> None:
        """The site's (or `cdn.assets`') files to its bucket, changed paths invalidated."""
        edge = outputs.edge
        source = self.site_source(edge.site_bucket_name or "")
        if source is None:
            return
        site = publish_site(
            self.aws, source, distribution_id=edge.distribution_id, reporter=self.reporter
        )
        result.site_uploaded = list(site.uploaded)
        result.site_deleted = list(site.deleted)
        result.site_invalidated = list(site.invalidated)

    # -- plan ------------------------------------------------------------------------------

    def preview(self, outputs: DeployedOutputs) -> list[str]:
        """What deploy would do at the edge, read-only."""
        lines: list[str] = []
        domain = self.app.domain
        if domain is not None:
            # Without the provider's credentials the alias is not checked either: the
            # records below say so.
            with suppress(MissingDnsCredentials):
                self._check_aliases()
            ledger = self.ledger.read()
            scopes = (["regional"] if self.app.api_hosts else []) + (
                ["cloudfront"] if self.app.cdn and self.app.cdn.owned else []
            )
            for scope in scopes:
                if scope not in ledger.certificates:
                    host = domain.api if scope == "regional" else domain.site
                    lines.append(f"+ certificate ({scope}) for {host}")
            lines.extend(self._preview_records(outputs))
        lines.extend(self._preview_site(outputs))
        cdn = self.app.cdn
        if cdn is not None and cdn.existing and outputs.network.fronted_by_cdn:
            shown = preview(self.aws, cdn.existing, self.api_origin(outputs))
            lines.extend(f"~ CloudFront {cdn.existing}: {line}" for line in shown.diff)
        elif cdn is not None and cdn.existing:
            self.check()
            lines.append(f"~ CloudFront {cdn.existing}: add origin {cdn.origin_id} for {cdn.path}")
        if cdn is not None and cdn.existing and cdn.spa_errors:
            diff = self._spa_errors_diff(cdn.existing)
            lines.extend(f"~ CloudFront {cdn.existing}: {line}" for line in diff)
        return lines

    def _preview_records(self, outputs: DeployedOutputs) -> list[str]:
        """The records deploy would write; without the provider's credentials (plan may run
        without them) each one is shown as not checked."""
        domain = self.app.domain
        if domain is None:
            return []
        wanted = wanted_records(self.app, outputs)
        try:
            dns = self.dns
        except MissingDnsCredentials as error:
            unset = " and ".join(error.variables)
            return [f"? DNS {r} at {domain.dns} (not checked: {unset} not set)" for r in wanted]
        return [
            f"+ DNS {record} at {domain.dns}"
            for record in wanted
            if record not in dns.records(domain.name, record.name, record.type)
        ]

    def _preview_site(self, outputs: DeployedOutputs) -> list[str]:
        bucket = outputs.edge.site_bucket_name
        source = self.site_source(bucket or "")
        if source is None:
            return []
        if bucket is None:
            return [f"+ site: upload {source.directory.name}/ once the edge stack exists"]
        plan = preview_site(self.aws, source)
        return [
            *(f"+ site: upload {f.key}" for f in plan.upload),
            *(f"- site: delete {key}" for key in plan.delete),
            *(f"~ site: invalidate {path}" for path in plan.paths),
        ]

    # -- destroy ---------------------------------------------------------------------------

    def tear_down(self) -> list[str]:
        """Before the stacks go: take the splice out and remove fargo's DNS records."""
        done: list[str] = []
        ledger = self.ledger.read()
        done.extend(self._restore_spa_errors(ledger, None))
        if ledger.splice is not None:
            spliced = ledger.splice
            undone = detach(self.aws, spliced.distribution, spliced.origin_id, spliced.path)
            done.append(
                f"CloudFront {spliced.distribution}: removed origin {spliced.origin_id}"
                if undone.found
                else f"CloudFront {spliced.distribution}: not found, nothing to remove"
            )
            ledger.splice = None
            self.ledger.write(ledger)
        validation = set(self._validation_records(ledger))
        records = [r for r in ledger.records if r not in validation]
        if records and ledger.zone:
            for record in self._dns_for_ledger(ledger).delete(ledger.zone, records):
                done.append(f"DNS {record} removed")
            ledger.forget(records)
            self.ledger.write(ledger)
        return done

    def delete_certificates(self) -> list[str]:
        """After the stacks are gone (the listener no longer uses them)."""
        done: list[str] = []
        ledger = self.ledger.read()
        for scope, arn in list(ledger.certificates.items()):
            validation = self._validation_for(scope, arn)
            if acm.delete_certificate(self._aws_for(scope), arn):
                done.append(f"certificate {arn} deleted")
                if ledger.zone:
                    self._dns_for_ledger(ledger).delete(ledger.zone, validation)
                ledger.forget(validation)
                del ledger.certificates[scope]
        self.ledger.write(ledger)
        return done

    def _dns_for_ledger(self, ledger: EdgeLedger) -> DnsProvider:
        """The provider the ledger's records are at: a manifest may have moved the zone, or
        dropped `domain`, since they were written."""
        if ledger.dns is None or (self.app.domain and ledger.dns == self.app.domain.dns):
            return self.dns
        return provider_from_env(ledger.dns, self._environ, self.aws)
