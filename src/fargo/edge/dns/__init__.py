"""DNS records at the user's provider, behind one protocol (`provider.DnsProvider`).

fargo writes a handful of records: ACM validation CNAMEs, the API host's CNAME, SES DKIM
CNAMEs, and SES MAIL FROM's MX and SPF TXT. `factory.provider_from_env` gives the provider
`domain.dns` names: Route 53 through fargo's AWS facade, and Cloudflare, GoDaddy, Porkbun
and PowerDNS through small httpx clients of fargo's own.

Why not dns-lexicon, which speaks to all of these: fargo needs two things from every
provider that lexicon does not give. Its PowerDNS provider appends the zone to every CNAME
target outside the zone, trailing dot or not, so `dualstack.x.elb.amazonaws.com.` would be
written as `dualstack.x.elb.amazonaws.com.example.com.` and the API host would not
resolve. And its delete removes what matches a name and type or a record id, where fargo
must remove a value only while the name still holds exactly that value, leaving a record
the user has since changed. It is also a large dependency (requests, tldextract, a module
per provider) for the five APIs and four calls each that fargo uses.
"""
