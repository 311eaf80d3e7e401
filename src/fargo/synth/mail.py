"""SES: the sending domain with Easy DKIM, and a configuration set for its mail."""

from __future__ import annotations

from troposphere import GetAtt, Ref, Template, ses

from fargo.model.app import App, Mail
from fargo.synth import outputs as out
from fargo.synth.common import add, output


def add_mail(template: Template, app: App, mail: Mail) -> list[str]:
    # With the zone's records in fargo's hands, bounces come back through SES's feedback
    # endpoint on a MAIL FROM subdomain, so SPF aligns with the sending domain.
    mail_from = (
        {
            "MailFromAttributes": ses.MailFromAttributes(
                MailFromDomain=app.mail_from_domain, BehaviorOnMxFailure="USE_DEFAULT_VALUE"
            )
        }
        if app.mail_from_domain
        else {}
    )
    configuration = add(
        template,
        ses.ConfigurationSet(
            "MailConfigurationSet",
            ReputationOptions=ses.ReputationOptions(ReputationMetricsEnabled=True),
            SendingOptions=ses.SendingOptions(SendingEnabled=True),
            SuppressionOptions=ses.SuppressionOptions(SuppressedReasons=["BOUNCE", "COMPLAINT"]),
        ),
        f"sending rules for {app.name}/{app.env} mail: bounces and complaints suppressed",
    )
    identity = add(
        template,
        ses.EmailIdentity(
            "MailIdentity",
            EmailIdentity=mail.domain,
            DkimSigningAttributes=ses.DkimSigningAttributes(NextSigningKeyLength="RSA_2048_BIT"),
            DkimAttributes=ses.DkimAttributes(SigningEnabled=True),
            ConfigurationSetAttributes=ses.ConfigurationSetAttributes(
                ConfigurationSetName=Ref(configuration)
            ),
            **mail_from,
        ),
        f"sends as {mail.domain}, signed with Easy DKIM",
    )
    output(template, out.MAIL_DOMAIN, Ref(identity))
    output(template, out.MAIL_CONFIGURATION_SET, Ref(configuration))
    # The DNS step (or the user) publishes these three CNAMEs to verify the domain.
    for index in out.DKIM_TOKENS:
        name, value = out.mail_dkim_name(index), out.mail_dkim_value(index)
        output(template, name, GetAtt(identity, f"DkimDNSTokenName{index}"))
        output(template, value, GetAtt(identity, f"DkimDNSTokenValue{index}"))
    return []
