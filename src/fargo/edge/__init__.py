"""The edge in front of the app: DNS, certificates and CloudFront."""
